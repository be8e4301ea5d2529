//! Printed letters read back with poppler's `pdftotext`, as a person (or a
//! mail house's software) would: the names and addresses in every script
//! come out exactly, and no line passes the right margin.
//!
//! Needs poppler-utils (`scripts/test` installs it). Without it these tests
//! fail and say so: a skipped check here is a letter nobody read.

use std::io::ErrorKind;
use std::process::Command;

use bulwark_notice::{LetterPdf, PdfFonts};

/// US Letter, 72 pt margins.
const LEFT: f64 = 72.0;
const RIGHT: f64 = 612.0 - 72.0;

fn poppler(tool: &str, args: &[&str], pdf: &LetterPdf) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.pdf");
    std::fs::write(&path, &pdf.bytes).unwrap();
    let out = match Command::new(tool)
        .args(args)
        .arg(&path)
        .args(out_arg(tool))
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "{tool} not found: install poppler-utils (apt-get install poppler-utils; \
             scripts/test does this) to run the printed-letter tests"
        ),
        Err(e) => panic!("running {tool}: {e}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tool} failed: {stderr}");
    // Poppler reports a malformed PDF on stderr but still extracts what it can.
    assert!(stderr.trim().is_empty(), "{tool} complained: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// pdftotext writes to the file named after the PDF (`-` is stdout);
/// pdffonts always prints.
fn out_arg(tool: &str) -> &'static [&'static str] {
    if tool == "pdftotext" {
        &["-"]
    } else {
        &[]
    }
}

fn pdftotext(pdf: &LetterPdf) -> String {
    poppler("pdftotext", &[], pdf)
}

/// Each text line poppler finds: (xMin, xMax, text).
fn lines(pdf: &LetterPdf) -> Vec<(f64, f64, String)> {
    let html = poppler("pdftotext", &["-bbox-layout"], pdf);
    let attr = |tag: &str, name: &str| -> f64 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let end = start + tag[start..].find('"').unwrap();
        tag[start..end].parse().unwrap()
    };
    let mut out = Vec::new();
    for chunk in html.split("<line ").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap()];
        let words: Vec<&str> = chunk
            .split("<word ")
            .skip(1)
            .map(|w| {
                let w = &w[w.find('>').unwrap() + 1..];
                &w[..w.find("</word>").unwrap()]
            })
            .collect();
        out.push((attr(tag, "xMin"), attr(tag, "xMax"), words.join(" ")));
    }
    out
}

fn assert_within_margins(pdf: &LetterPdf) {
    let lines = lines(pdf);
    assert!(!lines.is_empty());
    for (x_min, x_max, text) in &lines {
        assert!(
            *x_min >= LEFT - 0.01 && *x_max <= RIGHT + 0.01,
            "line {x_min}..{x_max} passes the margins: {text}"
        );
    }
}

fn fonts() -> PdfFonts {
    PdfFonts::embedded().unwrap()
}

#[test]
fn polish_name_and_address_with_greek_and_cyrillic_print_exactly() {
    let address = ["Łukasz Dvořák", "ul. Źródlana 5", "90-001 Łódź"].map(String::from);
    let body = "Szanowny Panie Łukaszu,\n\n\
        Ελληνικά: Καλημέρα σας, αγαπητέ πελάτη.\n\
        Русский: Здравствуйте, уважаемый клиент.\n\n\
        Z poważaniem, Zespół Sklepu";
    let pdf = fonts().letter(&address, body).unwrap();
    assert_eq!(pdf.replaced, 0);
    let text = pdftotext(&pdf);
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(
        got[..3],
        ["Łukasz Dvořák", "ul. Źródlana 5", "90-001 Łódź"],
        "{text}"
    );
    for line in [
        "Szanowny Panie Łukaszu,",
        "Ελληνικά: Καλημέρα σας, αγαπητέ πελάτη.",
        "Русский: Здравствуйте, уважаемый клиент.",
        "Z poważaniem, Zespół Sklepu",
    ] {
        assert!(got.contains(&line), "{line:?} not in {text}");
    }
    assert_within_margins(&pdf);
    // Embedded, subset, and mapped back to Unicode (the `uni` column).
    let fonts = poppler("pdffonts", &[], &pdf);
    let row = fonts
        .lines()
        .find(|l| l.contains("+DejaVuSansMono"))
        .unwrap();
    assert!(
        row.contains("CID TrueType") && row.contains("Identity-H"),
        "{fonts}"
    );
    assert!(row.contains("yes yes yes"), "{fonts}");
    assert!(
        !fonts.contains("Droid"),
        "no CJK in this letter, so no fallback font"
    );
}

#[test]
fn japanese_name_and_address_print_exactly() {
    let address = ["山田 太郎", "東京都千代田区丸の内1-1", "100-0005"].map(String::from);
    let body =
        "山田 太郎 様\n\nこのたびは、お客様の情報が不正に閲覧されたことをお知らせいたします。";
    let pdf = fonts().letter(&address, body).unwrap();
    assert_eq!(pdf.replaced, 0);
    let text = pdftotext(&pdf);
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(
        got[..3],
        ["山田 太郎", "東京都千代田区丸の内1-1", "100-0005"],
        "{text}"
    );
    assert!(got.contains(&"山田 太郎 様"), "{text}");
    assert!(
        got.contains(&"このたびは、お客様の情報が不正に閲覧されたことをお知らせいたします。"),
        "{text}"
    );
    assert_within_margins(&pdf);
    let fonts = poppler("pdffonts", &[], &pdf);
    assert!(fonts.contains("+DroidSansFallback"), "{fonts}");
    assert!(
        fonts.contains("+DejaVuSansMono"),
        "digits and spaces: {fonts}"
    );
}

#[test]
fn a_name_stored_decomposed_prints_composed() {
    // "Łukasz Dvořák" with the accents as combining marks (NFD).
    let pdf = fonts()
        .letter(&["Łukasz Dvor\u{30c}a\u{301}k".into()], "")
        .unwrap();
    assert_eq!(pdf.replaced, 0);
    assert_eq!(pdftotext(&pdf).lines().next(), Some("Łukasz Dvořák"));
}

#[test]
fn vietnamese_names_print_exactly() {
    // DejaVu Sans Mono lacks "ễ" and "ở": they come from DejaVu Sans,
    // mid-word, and the word still reads back whole.
    let address = [
        "Nguyễn Thị Minh Khai",
        "12 Đường Lê Lợi, Phường Bến Nghé",
        "Quận 1, TP. Hồ Chí Minh",
    ]
    .map(String::from);
    let pdf = fonts()
        .letter(&address, "Kính gửi Quý khách, ở đây.")
        .unwrap();
    assert_eq!(pdf.replaced, 0);
    let text = pdftotext(&pdf);
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got[..3], address.each_ref().map(String::as_str), "{text}");
    assert!(got.contains(&"Kính gửi Quý khách, ở đây."), "{text}");
    assert_within_margins(&pdf);
}

#[test]
fn a_long_cjk_paragraph_wraps_into_lines_within_the_width() {
    let paragraph = "当社は二〇二六年十月二十一日に不正アクセスを確認し、直ちに管理者用の鍵を無効化するとともに、\
        外部の調査機関に調査を依頼しました。お客様の氏名、電子メールアドレス及びパスワードが閲覧された可能性があります。\
        同じパスワードを他のサービスでもご使用の場合は、速やかに変更してください。"
        .repeat(3);
    let pdf = fonts().letter(&["山田 太郎".into()], &paragraph).unwrap();
    let lines = lines(&pdf);
    let body: Vec<_> = lines.iter().skip(1).collect();
    let chars = paragraph.chars().count();
    // 42 full-width characters to a line; kinsoku may move one down.
    assert!(body.len() >= chars.div_ceil(42), "{body:?}");
    assert!(body.len() <= chars.div_ceil(41), "{body:?}");
    // Lines are full, not wrapped early: all but the last reach within two
    // ideographs of the margin.
    for (_, x_max, text) in &body[..body.len() - 1] {
        assert!(*x_max > RIGHT - 22.0, "short line {x_max}: {text}");
    }
    assert_within_margins(&pdf);
    let text: String = pdftotext(&pdf).lines().skip(2).collect();
    assert_eq!(text.trim(), paragraph, "every character, in order");
}

#[test]
fn a_letter_is_a_few_kilobytes() {
    let body = "We are writing to tell you about a data security incident. ".repeat(40);
    let pdf = fonts()
        .letter(&["Jane Doe".into(), "1 Main Street".into()], &body)
        .unwrap();
    assert!(pdf.bytes.len() < 30_000, "{} bytes", pdf.bytes.len());
    assert_within_margins(&pdf);
}
