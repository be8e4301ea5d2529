//! CSP violation report bodies (`bulwark_pagewatch::csp::parse`), as the
//! report endpoint receives them from anyone: in each declared format and by
//! shape, then every violation turned into an event. Whatever is kept must
//! stay within the crate's bounds.
#![no_main]

use bulwark_pagewatch::csp::{parse, ReportFormat, MAX_REPORTS, MAX_SAMPLE_CHARS};
use bulwark_pagewatch::event::Page;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let page = Page {
        url: "https://shop.example/checkout".into(),
        page_type: "checkout".into(),
    };
    for format in [
        None,
        Some(ReportFormat::Legacy),
        Some(ReportFormat::ReportingApi),
    ] {
        if let Ok(reports) = parse(data, format) {
            assert!(reports.violations.len() <= MAX_REPORTS);
            for v in &reports.violations {
                if let Some(s) = &v.sample {
                    assert!(s.chars().count() <= MAX_SAMPLE_CHARS);
                    assert!(!s.chars().any(char::is_control));
                }
                let _ = v.to_event(&page, reports.format, time::OffsetDateTime::UNIX_EPOCH);
            }
        }
    }
});
