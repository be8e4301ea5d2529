//! The print run's mail-merge file: one row per letter, for a print shop or a
//! word processor, next to one PDF per letter.

use crate::error::NoticeError;

pub const HEADER: [&str; 9] = [
    "notice_id",
    "incident",
    "version",
    "language",
    "jurisdiction",
    "name",
    "postal_address",
    "elements",
    "pdf",
];

/// Writes the rows (each in `HEADER` order) as CSV.
pub fn mail_merge<W: std::io::Write>(out: W, rows: &[[String; 9]]) -> Result<(), NoticeError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)
        .map_err(|e| NoticeError::Csv(e.to_string()))?;
    for r in rows {
        w.write_record(r)
            .map_err(|e| NoticeError::Csv(e.to_string()))?;
    }
    w.flush().map_err(|e| NoticeError::Csv(e.to_string()))
}
