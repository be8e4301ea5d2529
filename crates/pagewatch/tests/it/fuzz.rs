//! No input makes the CSP parser panic: random bytes, and random mutations
//! of real reports (a fixed-seed generator, so a failure repeats).

use bulwark_pagewatch::csp::{parse, ReportFormat};

/// xorshift64*: small, deterministic, good enough to shake a parser.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: [&str; 2] = [
    r#"{"csp-report":{"document-uri":"https://shop.example/checkout","effective-directive":"script-src-elem","blocked-uri":"https://x.example/a.js","line-number":3,"script-sample":"a<b>","disposition":"report","status-code":200}}"#,
    r#"[{"type":"csp-violation","age":1,"url":"https://shop.example/","user_agent":"UA","body":{"documentURL":"https://shop.example/","effectiveDirective":"connect-src","blockedURL":"wss://x.example","lineNumber":"7","disposition":"enforce"}},{"type":"nel","body":{}}]"#,
];

const ALPHABET: &[u8] = b"{}[]\":,\\ 0123456789eE.-+truefalsn\x00\xff\xc3\xa9\n";

#[test]
fn no_input_panics() {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let formats = [
        None,
        Some(ReportFormat::Legacy),
        Some(ReportFormat::ReportingApi),
    ];
    for round in 0..20_000 {
        let mut body: Vec<u8> = if round % 2 == 0 {
            let len = rng.below(300);
            (0..len)
                .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                .collect()
        } else {
            SEEDS[rng.below(SEEDS.len())].as_bytes().to_vec()
        };
        for _ in 0..rng.below(8) {
            if body.is_empty() {
                break;
            }
            let i = rng.below(body.len());
            match rng.below(3) {
                0 => body[i] = ALPHABET[rng.below(ALPHABET.len())],
                1 => {
                    body.remove(i);
                }
                _ => body.insert(i, (rng.next() & 0xff) as u8),
            }
        }
        let _ = parse(&body, formats[rng.below(3)]);
    }
}
