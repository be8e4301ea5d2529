//! The rule packs shipped in `rules/`, compiled in by `build.rs` from the
//! directory, so a new rule file needs no code change. `(path, text)` pairs,
//! sorted by path; the `tests/` sample folders are not rules and are left out.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/rule_packs.rs"));
}

/// The e-commerce pack (`rules/ecommerce/`): what Bulwark runs by default.
pub const ECOMMERCE: &[(&str, &str)] = generated::ECOMMERCE;

/// SigmaHQ's web rules (`rules/sigmahq-web/`, DRL licence): optional.
pub const SIGMAHQ_WEB: &[(&str, &str)] = generated::SIGMAHQ_WEB;

/// JSON log mappings shipped in `formats/` (Caddy, Traefik, nginx JSON,
/// Cloudflare Logpush…): `(path, text)` pairs, sorted by path.
pub const FORMATS: &[(&str, &str)] = generated::FORMATS;
