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

/// `(path, text)` of every scenario in `scenarios/`, sorted by path.
pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "scenarios/admin-takeover.yaml",
        include_str!("../../../scenarios/admin-takeover.yaml"),
    ),
    (
        "scenarios/insider-night-export.yaml",
        include_str!("../../../scenarios/insider-night-export.yaml"),
    ),
    (
        "scenarios/ransomware-back-office.yaml",
        include_str!("../../../scenarios/ransomware-back-office.yaml"),
    ),
    (
        "scenarios/sql-injection-dump.yaml",
        include_str!("../../../scenarios/sql-injection-dump.yaml"),
    ),
    (
        "scenarios/stolen-api-key.yaml",
        include_str!("../../../scenarios/stolen-api-key.yaml"),
    ),
    (
        "scenarios/stored-card-numbers.yaml",
        include_str!("../../../scenarios/stored-card-numbers.yaml"),
    ),
    (
        "scenarios/third-party-processor.yaml",
        include_str!("../../../scenarios/third-party-processor.yaml"),
    ),
    (
        "scenarios/web-skimmer.yaml",
        include_str!("../../../scenarios/web-skimmer.yaml"),
    ),
];

/// `(path, text)` of every module in `training/`, sorted by path.
pub const TRAINING: &[(&str, &str)] = &[
    (
        "training/customer-data.md",
        include_str!("../../../training/customer-data.md"),
    ),
    (
        "training/incident-response.md",
        include_str!("../../../training/incident-response.md"),
    ),
    (
        "training/payment-cards.md",
        include_str!("../../../training/payment-cards.md"),
    ),
    (
        "training/phishing.md",
        include_str!("../../../training/phishing.md"),
    ),
];
