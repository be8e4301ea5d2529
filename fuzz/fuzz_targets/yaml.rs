//! bulwark-yaml on arbitrary text, with the default bounds (aliases expanded
//! within their budgets) and the strict ones. Beyond not crashing, a parsed
//! tree must stay within the input plus the alias budgets: that is the
//! memory bound the crate promises.
#![no_main]

use bulwark_yaml::{
    parse_document, parse_documents, Aliases, DuplicateKeys, Node, NodeKind, Options,
    DEFAULT_ALIAS_BYTES, DEFAULT_ALIAS_NODES,
};
use libfuzzer_sys::fuzz_target;

/// Nodes and scalar bytes in a tree, touching every typed view on the way.
fn walk(n: &Node, nodes: &mut usize, bytes: &mut usize) {
    *nodes += 1;
    let _ = (
        n.scalar(),
        n.as_bool(),
        n.is_null(),
        n.kind_name(),
        n.get("a"),
    );
    match &n.kind {
        NodeKind::Scalar { text, .. } => *bytes += text.len(),
        NodeKind::Seq(items) => items.iter().for_each(|i| walk(i, nodes, bytes)),
        NodeKind::Map(entries) => entries.iter().for_each(|(k, v)| {
            walk(k, nodes, bytes);
            walk(v, nodes, bytes);
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = bulwark_fuzz::text(data);
    let strict = Options {
        max_depth: 16,
        aliases: Aliases::Refuse,
        duplicate_keys: DuplicateKeys::Refuse,
    };
    if let Ok(docs) = parse_documents(&text, &Options::default()) {
        let (mut nodes, mut bytes) = (0, 0);
        docs.iter().for_each(|d| walk(d, &mut nodes, &mut bytes));
        // Every node of the input costs at least a byte of it except
        // implicit nulls (`a:`, `- `), at most one per byte more; escapes
        // (`\L`: 2 bytes of input, 3 of text) grow text by half at most.
        assert!(
            nodes <= 2 * text.len() + 2 + DEFAULT_ALIAS_NODES,
            "{nodes} nodes from {} bytes",
            text.len()
        );
        assert!(
            bytes <= 2 * text.len() + DEFAULT_ALIAS_BYTES,
            "{bytes} bytes of text from {} bytes",
            text.len()
        );
    }
    let _ = parse_documents(&text, &strict);
    if let Ok(doc) = parse_document(&text, &Options::default()) {
        let (mut nodes, mut bytes) = (0, 0);
        walk(&doc, &mut nodes, &mut bytes);
    }
});
