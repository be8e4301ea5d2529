//! The shipped duties, compiled in. When you add a file to `compliance/`, add
//! it here too (a test checks the two agree).

/// `(path, text)` of every file in `compliance/`, sorted by path.
pub const FILES: &[(&str, &str)] = &[
    (
        "compliance/pci-dss.toml",
        include_str!("../../../compliance/pci-dss.toml"),
    ),
    (
        "compliance/security-review.toml",
        include_str!("../../../compliance/security-review.toml"),
    ),
];
