//! The shipped playbooks, compiled in. When you add or rename a file in
//! `playbooks/`, add it here too (a test checks the two agree).

/// `(path, text)` of every playbook in `playbooks/`, sorted by path.
pub const FILES: &[(&str, &str)] = &[
    (
        "playbooks/admin_account_takeover.yaml",
        include_str!("../../../playbooks/admin_account_takeover.yaml"),
    ),
    (
        "playbooks/credential_stuffing.yaml",
        include_str!("../../../playbooks/credential_stuffing.yaml"),
    ),
    (
        "playbooks/lost_device.yaml",
        include_str!("../../../playbooks/lost_device.yaml"),
    ),
    (
        "playbooks/ransomware.yaml",
        include_str!("../../../playbooks/ransomware.yaml"),
    ),
    (
        "playbooks/sql_injection_exfiltration.yaml",
        include_str!("../../../playbooks/sql_injection_exfiltration.yaml"),
    ),
    (
        "playbooks/third_party_breach.yaml",
        include_str!("../../../playbooks/third_party_breach.yaml"),
    ),
    (
        "playbooks/web_skimmer.yaml",
        include_str!("../../../playbooks/web_skimmer.yaml"),
    ),
];
