//! The reference material beside the repository (`../shared`: the Sigma
//! corpus, real web logs, law notes). Tests that need it fail loudly when it is
//! missing, never pass by skipping: CI has it, and so must a developer who runs them.

use std::path::{Path, PathBuf};

/// `../shared/<rel>` from the workspace root; panics with how to get it when absent.
pub fn shared(rel: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let path = root.join(rel);
    assert!(
        path.exists(),
        "this test needs {} (the shared reference folder beside the repository, as CI has it); it is missing",
        path.display()
    );
    path
}
