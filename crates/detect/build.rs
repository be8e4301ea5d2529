//! Embeds the rule packs of `rules/` (see `src/packs.rs`), so the engine ships its
//! defaults the way `law` ships the catalogue and `incident` the playbooks.
//! Generated at build time from the directory, so a new rule file needs no code change.

use std::fmt::Write as _;
use std::path::Path;

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path.display().to_string());
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut code = String::new();
    for (name, sub) in [("ECOMMERCE", "ecommerce"), ("SIGMAHQ_WEB", "sigmahq-web")] {
        let dir = root.join(sub);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        collect(&dir, &mut files);
        files.sort();
        let _ = writeln!(code, "pub const {name}: &[(&str, &str)] = &[");
        for f in &files {
            let rel = Path::new(f)
                .strip_prefix(&root)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| f.clone());
            let _ = writeln!(
                code,
                "    ({:?}, include_str!({:?})),",
                format!("rules/{rel}"),
                f
            );
        }
        let _ = writeln!(code, "];");
    }
    // Log-format mapping files (`formats/*.yml`): JSON logs with their own keys.
    let formats = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../formats");
    println!("cargo:rerun-if-changed={}", formats.display());
    let mut files = Vec::new();
    collect(&formats, &mut files);
    files.sort();
    let _ = writeln!(code, "pub const FORMATS: &[(&str, &str)] = &[");
    for f in &files {
        let name = Path::new(f)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let _ = writeln!(
            code,
            "    ({:?}, include_str!({:?})),",
            format!("formats/{name}"),
            f
        );
    }
    let _ = writeln!(code, "];");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()))
        .join("rule_packs.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
