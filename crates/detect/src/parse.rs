//! Turns YAML documents into typed Sigma documents ([`Document`]), with errors that
//! point at the offending node.
//!
//! Legacy rule collections (`action: global` / `reset` / `repeat`) are supported:
//! a `global` document is deep-merged into every following document until a
//! `reset`; `repeat` re-uses the previous document with its own keys merged in.

use bulwark_model::duration::{parse_duration, DurationLimits};

use crate::ast::*;
use crate::condition::parse_condition;
use crate::error::RuleError;
use bulwark_model::Pos;
use bulwark_yaml::{parse_documents, ErrorKind, Node, NodeKind, Options, Scalar};

/// What `action: global` and `action: repeat` may copy into the documents
/// that follow, over one file: the same budgets as YAML aliases (100,000
/// nodes, 16 MiB of text). Without it a collection is a bomb of its own: a
/// megabyte-long global document followed by thousands of one-line
/// documents is a small file that expands to gigabytes.
const MERGE_NODES: usize = bulwark_yaml::DEFAULT_ALIAS_NODES;
const MERGE_BYTES: usize = bulwark_yaml::DEFAULT_ALIAS_BYTES;

/// Nodes and bytes of scalar text in a tree.
fn tree_size(node: &Node) -> (usize, usize) {
    match &node.kind {
        NodeKind::Scalar { text, .. } => (1, text.len()),
        NodeKind::Seq(items) => items.iter().fold((1, 0), |(n, b), i| {
            let (n2, b2) = tree_size(i);
            (n + n2, b + b2)
        }),
        NodeKind::Map(entries) => entries.iter().fold((1, 0), |(n, b), (k, v)| {
            let (nk, bk) = tree_size(k);
            let (nv, bv) = tree_size(v);
            (n + nk + nv, b + bk + bv)
        }),
    }
}

/// What merges have copied so far in one file.
#[derive(Default)]
struct MergeBudget {
    nodes: usize,
    bytes: usize,
}

impl MergeBudget {
    /// Counts `copied` (about to be merged into the document at `at`) and
    /// refuses the file past the budgets.
    fn charge(&mut self, copied: &Node, at: Pos, action: &str) -> Result<(), RuleError> {
        let (n, b) = tree_size(copied);
        self.nodes = self.nodes.saturating_add(n);
        self.bytes = self.bytes.saturating_add(b);
        if self.nodes > MERGE_NODES || self.bytes > MERGE_BYTES {
            return Err(RuleError::invalid(
                at,
                format!(
                    "'action: {action}' would copy more than {MERGE_NODES} nodes or {} MiB of \
                     text into the documents of this file (a collection bomb?); \
                     write the documents out in full if this is intended",
                    MERGE_BYTES >> 20
                ),
            ));
        }
        Ok(())
    }
}

/// Parses every Sigma document in one file's text.
pub fn parse_file(text: &str) -> Result<Vec<Result<Document, RuleError>>, RuleError> {
    let docs = parse_documents(text, &Options::default()).map_err(|e| RuleError::Yaml {
        pos: e.pos,
        message: match e.kind {
            ErrorKind::Syntax(m) => format!("YAML syntax error: {m}"),
            // Bounds: alias budgets, depth; the message names the bound, not the content.
            kind => format!("YAML refused: {kind}"),
        },
    })?;
    // Collections are expanded first, all of them, so that a file past the
    // merge budget is refused before any document is read.
    let mut full: Vec<Result<Node, RuleError>> = Vec::new();
    let mut budget = MergeBudget::default();
    let mut global: Option<Node> = None;
    let mut previous: Option<Node> = None;
    for doc in docs {
        if doc.as_map().is_none() {
            if doc.is_null() {
                continue; // an empty document, e.g. a trailing `---`
            }
            full.push(Err(RuleError::invalid(
                doc.pos,
                "a Sigma document must be a mapping",
            )));
            continue;
        }
        match doc.get("action").and_then(Node::as_str) {
            Some("global") => {
                global = Some(without_key(&doc, "action"));
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => {
                let Some(prev) = &previous else {
                    full.push(Err(RuleError::invalid(
                        doc.pos,
                        "'action: repeat' without a previous document",
                    )));
                    continue;
                };
                budget.charge(prev, doc.pos, "repeat")?;
                let merged = merge(prev, &without_key(&doc, "action"));
                previous = Some(merged.clone());
                full.push(Ok(merged));
                continue;
            }
            Some(other) => {
                full.push(Err(RuleError::invalid(
                    doc.pos,
                    format!(
                        "unknown collection action '{other}' (expected global, reset or repeat)"
                    ),
                )));
                continue;
            }
            None => {}
        }
        let doc = match &global {
            Some(g) => {
                budget.charge(g, doc.pos, "global")?;
                merge(g, &doc)
            }
            None => doc,
        };
        previous = Some(doc.clone());
        full.push(Ok(doc));
    }
    Ok(full
        .into_iter()
        .map(|d| d.and_then(|d| parse_document(&d)))
        .collect())
}

fn without_key(node: &Node, key: &str) -> Node {
    match &node.kind {
        NodeKind::Map(entries) => Node {
            kind: NodeKind::Map(
                entries
                    .iter()
                    .filter(|(k, _)| k.as_str() != Some(key))
                    .cloned()
                    .collect(),
            ),
            pos: node.pos,
        },
        _ => node.clone(),
    }
}

/// Deep merge of mappings; `over` wins for scalars and lists.
fn merge(base: &Node, over: &Node) -> Node {
    match (&base.kind, &over.kind) {
        (NodeKind::Map(b), NodeKind::Map(o)) => {
            let mut entries = b.clone();
            for (k, v) in o {
                match entries.iter_mut().find(|(bk, _)| bk.as_str() == k.as_str()) {
                    Some((_, bv)) => *bv = merge(bv, v),
                    None => entries.push((k.clone(), v.clone())),
                }
            }
            Node {
                kind: NodeKind::Map(entries),
                pos: over.pos,
            }
        }
        _ => over.clone(),
    }
}

fn text_field(doc: &Node, key: &str) -> Result<Option<String>, RuleError> {
    match doc.get(key) {
        None => Ok(None),
        Some(n) if n.is_null() => Ok(None),
        Some(n) => match &n.kind {
            NodeKind::Scalar { text, .. } => Ok(Some(text.clone())),
            _ => Err(RuleError::invalid(
                n.pos,
                format!("'{key}' must be a string"),
            )),
        },
    }
}

fn text_list(doc: &Node, key: &str) -> Result<Vec<String>, RuleError> {
    match doc.get(key) {
        None => Ok(Vec::new()),
        Some(n) if n.is_null() => Ok(Vec::new()),
        Some(n) => match &n.kind {
            NodeKind::Scalar { text, .. } => Ok(vec![text.clone()]),
            NodeKind::Seq(items) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_string).ok_or_else(|| {
                        RuleError::invalid(i.pos, format!("'{key}' entries must be strings"))
                    })
                })
                .collect(),
            NodeKind::Map(_) => Err(RuleError::invalid(n.pos, format!("'{key}' must be a list"))),
        },
    }
}

fn parse_meta(doc: &Node) -> Result<Meta, RuleError> {
    let title =
        text_field(doc, "title")?.ok_or_else(|| RuleError::invalid(doc.pos, "missing 'title'"))?;
    let level = match doc.get("level") {
        None => None,
        Some(n) if n.is_null() => None,
        Some(n) => Some(n.as_str().and_then(Level::parse).ok_or_else(|| {
            RuleError::invalid(
                n.pos,
                "'level' must be informational, low, medium, high or critical",
            )
        })?),
    };
    Ok(Meta {
        title,
        id: text_field(doc, "id")?,
        name: text_field(doc, "name")?,
        status: text_field(doc, "status")?,
        description: text_field(doc, "description")?,
        level,
        tags: text_list(doc, "tags")?,
        fields: text_list(doc, "fields")?,
        falsepositives: text_list(doc, "falsepositives")?,
        pos: doc.pos,
    })
}

/// Parses a single Sigma document (detection rule, correlation or filter).
pub fn parse_document(doc: &Node) -> Result<Document, RuleError> {
    let meta = parse_meta(doc)?;
    if let Some(corr) = doc.get("correlation") {
        return Ok(Document::Correlation(parse_correlation(meta, corr, doc)?));
    }
    if let Some(filter) = doc.get("filter") {
        let logsource = parse_logsource(doc)?;
        let rules = text_list(filter, "rules")?;
        if rules.is_empty() {
            return Err(RuleError::invalid(filter.pos, "filter needs 'rules'"));
        }
        let detection = parse_detection(filter)?;
        return Ok(Document::Filter(FilterRule {
            meta,
            logsource,
            rules,
            detection,
        }));
    }
    let logsource = parse_logsource(doc)?;
    let det = doc.get("detection").ok_or_else(|| {
        RuleError::invalid(doc.pos, "missing 'detection' (or 'correlation'/'filter')")
    })?;
    let detection = parse_detection(det)?;
    Ok(Document::Detection(DetectionRule {
        meta,
        logsource,
        detection,
    }))
}

fn parse_logsource(doc: &Node) -> Result<Logsource, RuleError> {
    let ls = doc
        .get("logsource")
        .ok_or_else(|| RuleError::invalid(doc.pos, "missing 'logsource'"))?;
    if ls.as_map().is_none() {
        return Err(RuleError::invalid(ls.pos, "'logsource' must be a mapping"));
    }
    Ok(Logsource::new(
        text_field(ls, "product")?.as_deref(),
        text_field(ls, "category")?.as_deref(),
        text_field(ls, "service")?.as_deref(),
    ))
}

/// Parses a `detection:` (or a filter's) mapping: search identifiers plus `condition`.
pub fn parse_detection(det: &Node) -> Result<DetectionBody, RuleError> {
    let entries = det
        .as_map()
        .ok_or_else(|| RuleError::invalid(det.pos, "'detection' must be a mapping"))?;
    let mut searches = Vec::new();
    let mut cond_node = None;
    for (k, v) in entries {
        let name = k
            .as_str()
            .ok_or_else(|| RuleError::invalid(k.pos, "search identifier must be a string"))?;
        match name {
            "condition" => cond_node = Some(v),
            // Deprecated, informational only.
            "timeframe" => {}
            _ => {
                if searches.iter().any(|(n, _)| n == name) {
                    return Err(RuleError::invalid(
                        k.pos,
                        format!("duplicate search identifier '{name}'"),
                    ));
                }
                searches.push((name.to_string(), parse_search(v, 0)?));
            }
        }
    }
    let cond_node = cond_node.ok_or_else(|| RuleError::invalid(det.pos, "missing 'condition'"))?;
    let cond_texts: Vec<&Node> = match &cond_node.kind {
        NodeKind::Scalar { .. } => vec![cond_node],
        NodeKind::Seq(items) => items.iter().collect(),
        NodeKind::Map(_) => {
            return Err(RuleError::invalid(
                cond_node.pos,
                "'condition' must be a string or a list of strings",
            ))
        }
    };
    if cond_texts.is_empty() {
        return Err(RuleError::invalid(cond_node.pos, "'condition' is empty"));
    }
    let mut conditions = Vec::new();
    for n in cond_texts {
        let text = n
            .as_str()
            .ok_or_else(|| RuleError::invalid(n.pos, "condition must be a string"))?;
        let c = parse_condition(text).map_err(|e| RuleError::Condition {
            pos: n.pos,
            condition: text.to_string(),
            offset: e.offset,
            message: e.message,
        })?;
        conditions.push(c);
    }
    Ok(DetectionBody {
        searches,
        conditions,
        condition_pos: cond_node.pos,
    })
}

fn to_value(n: &Node) -> Result<RuleValue, RuleError> {
    Ok(match n.scalar() {
        Some(Scalar::Null) => RuleValue::Null,
        Some(Scalar::Bool(b)) => RuleValue::Bool(b),
        Some(Scalar::Int(i)) => RuleValue::Int(i),
        Some(Scalar::Float(f)) => RuleValue::Float(f),
        Some(Scalar::Str(s)) => RuleValue::Str(s.to_string()),
        None => return Err(RuleError::invalid(n.pos, "expected a scalar value")),
    })
}

fn parse_search(n: &Node, depth: usize) -> Result<Search, RuleError> {
    if depth > 8 {
        return Err(RuleError::invalid(n.pos, "search nested too deeply"));
    }
    match &n.kind {
        NodeKind::Scalar { .. } => Ok(Search::Keyword(to_value(n)?, n.pos)),
        NodeKind::Seq(items) => {
            if items.is_empty() {
                return Err(RuleError::invalid(n.pos, "empty search list"));
            }
            Ok(Search::AnyOf(
                items
                    .iter()
                    .map(|i| parse_search(i, depth + 1))
                    .collect::<Result<_, _>>()?,
            ))
        }
        NodeKind::Map(entries) => {
            let mut items = Vec::new();
            for (k, v) in entries {
                let key = k
                    .as_str()
                    .ok_or_else(|| RuleError::invalid(k.pos, "field name must be a string"))?;
                items.push(parse_field_item(key, k.pos, v)?);
            }
            if items.is_empty() {
                return Err(RuleError::invalid(n.pos, "empty search map"));
            }
            Ok(Search::AllOf(items))
        }
    }
}

fn parse_field_item(key: &str, pos: Pos, v: &Node) -> Result<FieldItem, RuleError> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let mut modifiers = Vec::new();
    for m in parts {
        match Modifier::parse(m) {
            Some(m) => modifiers.push(m),
            None => {
                return Err(RuleError::UnsupportedModifier {
                    pos,
                    key: key.to_string(),
                    modifier: m.to_string(),
                })
            }
        }
    }
    let values = match &v.kind {
        NodeKind::Scalar { .. } => vec![to_value(v)?],
        NodeKind::Seq(items) => {
            let vals: Vec<RuleValue> = items.iter().map(to_value).collect::<Result<_, _>>()?;
            if vals.len() > 1 && vals.contains(&RuleValue::Null) {
                return Err(RuleError::invalid(
                    v.pos,
                    format!(
                        "'{key}': null cannot be part of a value list; use a separate selection"
                    ),
                ));
            }
            vals
        }
        NodeKind::Map(_) => {
            return Err(RuleError::invalid(
                v.pos,
                format!("'{key}': value must be a scalar or a list"),
            ))
        }
    };
    Ok(FieldItem {
        key: key.to_string(),
        field: if field.is_empty() {
            None
        } else {
            Some(field.to_string())
        },
        modifiers,
        values,
        pos,
    })
}

/// A correlation window in milliseconds: `30s`, `5m`, `1h`, `1d`, or any
/// spelling the shared duration syntax accepts (`1w`, `1h30m`).
pub fn parse_timespan(s: &str) -> Result<i64, String> {
    let d = parse_duration(s, DurationLimits::ANY).map_err(|e| e.to_string())?;
    match i64::try_from(d.whole_milliseconds()) {
        Ok(ms) if ms > 0 => Ok(ms),
        _ => Err("timespan must be longer than zero".into()),
    }
}

fn parse_correlation(meta: Meta, c: &Node, doc: &Node) -> Result<CorrelationRule, RuleError> {
    if c.as_map().is_none() {
        return Err(RuleError::invalid(c.pos, "'correlation' must be a mapping"));
    }
    let kind_text = text_field(c, "type")?
        .ok_or_else(|| RuleError::invalid(c.pos, "correlation needs 'type'"))?;
    let kind = match kind_text.as_str() {
        "event_count" => CorrelationType::EventCount,
        "value_count" => CorrelationType::ValueCount,
        "temporal" => CorrelationType::Temporal,
        "temporal_ordered" => CorrelationType::TemporalOrdered,
        "value_sum" => CorrelationType::ValueSum,
        "value_avg" => CorrelationType::ValueAvg,
        other => {
            return Err(RuleError::invalid(
                c.pos,
                format!("unsupported correlation type '{other}'"),
            ))
        }
    };
    let rules = text_list(c, "rules")?;
    if rules.is_empty() {
        return Err(RuleError::invalid(c.pos, "correlation needs 'rules'"));
    }
    let group_by = text_list(c, "group-by")?;
    let ts_node = c
        .get("timespan")
        .ok_or_else(|| RuleError::invalid(c.pos, "correlation needs 'timespan'"))?;
    let timespan_ms = ts_node
        .as_str()
        .ok_or_else(|| "timespan must be a duration such as 30s, 5m, 1h or 1d".to_owned())
        .and_then(parse_timespan)
        .map_err(|m| RuleError::invalid(ts_node.pos, format!("timespan: {m}")))?;
    let mut condition = Vec::new();
    let mut field = None;
    if let Some(cond) = c.get("condition") {
        let entries = cond.as_map().ok_or_else(|| {
            RuleError::invalid(cond.pos, "correlation condition must be a mapping")
        })?;
        for (k, v) in entries {
            let op = match k.as_str().unwrap_or_default() {
                "gt" => CmpOp::Gt,
                "gte" => CmpOp::Gte,
                "lt" => CmpOp::Lt,
                "lte" => CmpOp::Lte,
                "eq" => CmpOp::Eq,
                "neq" => CmpOp::Neq,
                "field" => {
                    field = match &v.kind {
                        NodeKind::Scalar { text, .. } => Some(text.clone()),
                        NodeKind::Seq(items) if items.len() == 1 => {
                            items[0].as_str().map(str::to_string)
                        }
                        _ => {
                            return Err(RuleError::invalid(
                                v.pos,
                                "condition 'field' must name one field",
                            ))
                        }
                    };
                    continue;
                }
                other => {
                    return Err(RuleError::invalid(
                        k.pos,
                        format!("unknown correlation condition operator '{other}'"),
                    ))
                }
            };
            let n = match v.scalar() {
                Some(Scalar::Int(i)) => i as f64,
                Some(Scalar::Float(f)) => f,
                _ => {
                    return Err(RuleError::invalid(
                        v.pos,
                        "condition threshold must be a number",
                    ))
                }
            };
            condition.push((op, n));
        }
    }
    let needs_condition = !matches!(
        kind,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    if needs_condition && condition.is_empty() {
        return Err(RuleError::invalid(
            c.pos,
            format!("{kind_text} correlation needs a 'condition'"),
        ));
    }
    let needs_field = matches!(
        kind,
        CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg
    );
    if needs_field && field.is_none() {
        return Err(RuleError::invalid(
            c.pos,
            format!("{kind_text} correlation needs 'condition.field'"),
        ));
    }
    let mut aliases = Vec::new();
    if let Some(a) = c.get("aliases") {
        let entries = a
            .as_map()
            .ok_or_else(|| RuleError::invalid(a.pos, "'aliases' must be a mapping"))?;
        for (alias, per_rule) in entries {
            let alias_name = alias.as_str().unwrap_or_default().to_string();
            let mut map = Vec::new();
            for (r, f) in per_rule.as_map().ok_or_else(|| {
                RuleError::invalid(per_rule.pos, "alias must map rule names to fields")
            })? {
                match (r.as_str(), f.as_str()) {
                    (Some(r), Some(f)) => map.push((r.to_string(), f.to_string())),
                    _ => return Err(RuleError::invalid(r.pos, "alias entries must be strings")),
                }
            }
            aliases.push((alias_name, map));
        }
    }
    let generate = match c.get("generate").or_else(|| doc.get("generate")) {
        None => false,
        Some(g) => match g.scalar() {
            Some(Scalar::Bool(b)) => b,
            _ => {
                return Err(RuleError::invalid(
                    g.pos,
                    "'generate' must be true or false",
                ))
            }
        },
    };
    Ok(CorrelationRule {
        meta,
        kind,
        rules,
        group_by,
        timespan_ms,
        condition,
        field,
        aliases,
        generate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rule() {
        let docs = parse_file(
            "title: T\nid: x\nlevel: high\nlogsource:\n  category: WebServer\ndetection:\n  sel:\n    cs-uri-query|contains:\n      - a\n      - b\n  condition: sel\n",
        )
        .unwrap();
        let Ok(Document::Detection(r)) = &docs[0] else {
            panic!("{docs:?}")
        };
        assert_eq!(r.logsource.category.as_deref(), Some("webserver"));
        assert_eq!(r.meta.level, Some(Level::High));
        let Search::AllOf(items) = &r.detection.searches[0].1 else {
            panic!()
        };
        assert_eq!(items[0].modifiers, vec![Modifier::Contains]);
        assert_eq!(items[0].values.len(), 2);
    }

    #[test]
    fn unknown_modifier_is_named() {
        let docs = parse_file(
            "title: T\nlogsource: {product: x}\ndetection:\n  sel:\n    a|frobnicate: 1\n  condition: sel\n",
        )
        .unwrap();
        let Err(e) = &docs[0] else { panic!() };
        assert!(e.to_string().contains("'frobnicate'"), "{e}");
        assert_eq!(e.pos(), Pos::new(5, 5), "{e}");
    }

    #[test]
    fn bad_condition_position() {
        let docs = parse_file(
            "title: T\nlogsource: {product: x}\ndetection:\n  sel: [a]\n  condition: sel and\n",
        )
        .unwrap();
        let Err(RuleError::Condition { offset, pos, .. }) = &docs[0] else {
            panic!("{docs:?}")
        };
        assert_eq!(*offset, 7);
        assert_eq!(pos.line, 5);
    }

    #[test]
    fn global_action_merges() {
        let text = "action: global\ntitle: T\nlogsource: {product: p}\ndetection:\n  condition: sel\n---\ndetection:\n  sel: {a: 1}\n---\ndetection:\n  sel: {a: 2}\n";
        let docs = parse_file(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert!(docs.iter().all(|d| d.is_ok()), "{docs:?}");
    }

    #[test]
    fn collections_cannot_multiply_a_global_document() {
        // 64 KiB of global text merged into 300 documents: 19 MiB copied.
        let mut text = format!(
            "action: global\ntitle: T\nlogsource: {{product: p}}\ndescription: {}\n\
             detection:\n  condition: sel\n",
            "x".repeat(64 << 10)
        );
        for _ in 0..300 {
            text.push_str("---\ndetection: {sel: {a: 1}}\n");
        }
        let e = parse_file(&text).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("'action: global' would copy more than"),
            "{e}"
        );
        assert!(e.to_string().contains("collection bomb"), "{e}");
        // Line of the first document past the budget (each is two lines).
        assert_eq!(e.pos().line, 8 + 2 * 255, "{e}");

        // The same through `repeat`.
        let mut text = format!(
            "title: T\nlogsource: {{product: p}}\ndescription: {}\n\
             detection:\n  sel: {{a: 1}}\n  condition: sel\n",
            "x".repeat(64 << 10)
        );
        for _ in 0..300 {
            text.push_str("---\naction: repeat\nid: x\n");
        }
        let e = parse_file(&text).unwrap_err();
        assert!(e.to_string().contains("'action: repeat'"), "{e}");

        // Ordinary collections are far below the budget.
        let mut text = "action: global\ntitle: T\nlogsource: {product: p}\n\
                        detection:\n  condition: sel\n"
            .to_string();
        for i in 0..1000 {
            text.push_str(&format!("---\ndetection: {{sel: {{a: {i}}}}}\n"));
        }
        assert_eq!(parse_file(&text).unwrap().len(), 1000);
    }

    #[test]
    fn yaml_error() {
        let e = parse_file("title: [unclosed\n").unwrap_err();
        assert!(matches!(e, RuleError::Yaml { .. }));
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("90m"), Ok(5_400_000));
        assert_eq!(parse_timespan("1d"), Ok(86_400_000));
        assert_eq!(parse_timespan("1w"), Ok(7 * 86_400_000));
        assert_eq!(parse_timespan("1h30m"), Ok(5_400_000));
        assert!(parse_timespan("x").is_err());
        assert!(parse_timespan("0s").is_err());
    }
}
