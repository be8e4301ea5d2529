//! Printed letters (PDF) per second: a typical one-page letter rendered from
//! the shipped English templates, and one in Japanese (CJK glyphs from the
//! fallback font). The print run renders one PDF per letter, thousands per
//! incident, so this is the figure that bounds `bulwark notices print`.

use std::hint::black_box;

use bulwark_law::{evaluate, Catalogue, Scenario};
use bulwark_model::DataElement::*;
use bulwark_notice::{letter_rules, Letter, NoticeFacts, PdfFonts, Renderer, TemplateSet};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker used a stolen administrator key to read customer records."
breach_start = "2026-10-01"
discovered = "2026-10-21"
store_actions = "We revoked the key and engaged forensic investigators."
consequences = "Your information could be used for fraud or phishing."
[contact]
phone = "1-800-555-0100"
email = "privacy@example.test"
"#;

/// A one-page notice in Japanese: no spaces, full-width glyphs, so every
/// line is wrapped between ideographs.
const JA_BODY: &str = "山田 太郎 様\n\n\
平素より Example Outdoor Gear をご利用いただき、誠にありがとうございます。\
このたび、当社の管理者用の鍵が第三者に盗まれ、お客様の情報が不正に閲覧されたことが判明いたしました。\
お客様には多大なるご迷惑とご心配をおかけしますことを、心より深くお詫び申し上げます。\n\n\
【発生した事象】2026年10月1日から2026年10月20日までの間、攻撃者が盗まれた鍵を使用して顧客記録を閲覧しました。\
当社は2026年10月21日にこの事実を確認し、直ちに鍵を無効化するとともに、外部の調査機関に調査を依頼しました。\n\n\
【対象となる情報】氏名、電子メールアドレス、パスワード(暗号化されていない形式)。\
クレジットカード番号は含まれておりません。\n\n\
【お客様へのお願い】同じパスワードを他のサービスでもご使用の場合は、速やかに変更してください。\
当社を装った不審な電子メールや電話にご注意ください。\
当社からパスワードをお尋ねすることは一切ございません。\n\n\
【お問い合わせ】本件に関するご質問は、電話 1-800-555-0100 または privacy@example.test までご連絡ください。\
受付時間は平日午前9時から午後6時までです。\n\n\
重ねてお詫び申し上げますとともに、再発防止に全力で取り組んでまいります。";

fn bench(c: &mut Criterion) {
    let scenario: Scenario = serde_json::from_str(
        r#"{"aware_at": "2026-10-21T09:00:00Z", "encrypted": false, "key_compromised": false,
            "affected": [{"jurisdiction": "US-CA", "elements": ["name", "email", "password"], "count": 1000}]}"#,
    )
    .unwrap();
    let ev = evaluate(&Catalogue::builtin().unwrap(), &scenario).unwrap();
    let rules = letter_rules(&ev);
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let prepared = renderer.prepare(&facts, "2026-11-02", &rules);
    let en = prepared
        .letter(&Letter {
            name: Some("Jane Doe"),
            jurisdiction: "US-CA",
            elements: &[Name, Email, Password],
            enrolment_code: None,
            language: None,
        })
        .unwrap()
        .text;
    let en_address: Vec<String> = ["Jane Doe", "1 Main Street", "Springfield, CA 90210"]
        .map(String::from)
        .to_vec();
    let ja_address: Vec<String> = ["山田 太郎", "東京都千代田区丸の内1-1", "100-0005"]
        .map(String::from)
        .to_vec();

    // As the print run does: the fonts parsed once, reused for every letter.
    let fonts = PdfFonts::embedded().unwrap();
    for (address, body) in [(&en_address, en.as_str()), (&ja_address, JA_BODY)] {
        let pdf = fonts.letter(address, body).unwrap();
        assert_eq!(pdf.replaced, 0);
        eprintln!("{}: {} bytes", address[0], pdf.bytes.len());
    }

    let mut g = c.benchmark_group("pdf");
    g.throughput(Throughput::Elements(1));
    g.bench_function("latin_one_page_letter", |b| {
        b.iter(|| {
            black_box(
                fonts
                    .letter(black_box(&en_address), black_box(&en))
                    .unwrap(),
            )
        })
    });
    g.bench_function("cjk_one_page_letter", |b| {
        b.iter(|| {
            black_box(
                fonts
                    .letter(black_box(&ja_address), black_box(JA_BODY))
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
