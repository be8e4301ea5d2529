//! The typed form of Sigma documents: detection rules, correlation rules and
//! global filters, as written (before field mapping and compilation).

use bulwark_model::Pos;

/// Which log a rule reads: lower-case `product`/`category`/`service`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Logsource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl Logsource {
    pub fn new(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> Self {
        let norm = |s: Option<&str>| s.map(|s| s.to_ascii_lowercase());
        Logsource {
            product: norm(product),
            category: norm(category),
            service: norm(service),
        }
    }

    /// True when an event from `event` may be seen by a rule written for `self`.
    /// Attributes the event does not state are unknown and do not exclude the rule,
    /// which is how other Sigma tools treat untyped logs.
    pub fn admits(&self, event: &Logsource) -> bool {
        // Case-insensitive: events may carry a log source built by hand.
        fn ok(rule: &Option<String>, ev: &Option<String>) -> bool {
            match (rule, ev) {
                (Some(r), Some(e)) => r.eq_ignore_ascii_case(e),
                _ => true,
            }
        }
        ok(&self.product, &event.product)
            && ok(&self.category, &event.category)
            && ok(&self.service, &event.service)
    }

    /// Parses the CLI form `product/category/service`; empty parts are unset
    /// (`/webserver/` is category only, `nginx` is product only).
    pub fn parse_triple(s: &str) -> Logsource {
        let mut parts = s
            .splitn(3, '/')
            .map(str::trim)
            .map(|p| (!p.is_empty()).then_some(p));
        let product = parts.next().flatten();
        let category = parts.next().flatten();
        let service = parts.next().flatten();
        Logsource::new(product, category, service)
    }

    pub fn is_empty(&self) -> bool {
        self.product.is_none() && self.category.is_none() && self.service.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// Value modifiers of the modifiers appendix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Exists,
    Cased,
    Neq,
    Windash,
    Re,
    /// `re` sub-modifiers.
    ReI,
    ReM,
    ReS,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Lt,
    Lte,
    Gt,
    Gte,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Cidr,
    Expand,
    FieldRef,
}

impl Modifier {
    pub fn parse(s: &str) -> Option<Modifier> {
        use Modifier::*;
        Some(match s {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "exists" => Exists,
            "cased" => Cased,
            "neq" => Neq,
            "windash" => Windash,
            "re" => Re,
            "i" => ReI,
            "m" => ReM,
            "s" => ReS,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" | "wide" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "lt" => Lt,
            "lte" => Lte,
            "gt" => Gt,
            "gte" => Gte,
            "minute" => Minute,
            "hour" => Hour,
            "day" => Day,
            "week" => Week,
            "month" => Month,
            "year" => Year,
            "cidr" => Cidr,
            "expand" => Expand,
            "fieldref" => FieldRef,
            _ => return None,
        })
    }
}

/// A value as written in a detection.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl RuleValue {
    /// The value as text (numbers as written by Rust's formatter).
    pub fn to_text(&self) -> String {
        match self {
            RuleValue::Null => String::new(),
            RuleValue::Bool(b) => b.to_string(),
            RuleValue::Int(i) => i.to_string(),
            RuleValue::Float(f) => f.to_string(),
            RuleValue::Str(s) => s.clone(),
        }
    }
}

/// One `field|modifiers: values` entry. `field` is `None` for keyword entries
/// such as `'|all': [...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldItem {
    pub key: String,
    pub field: Option<String>,
    pub modifiers: Vec<Modifier>,
    pub values: Vec<RuleValue>,
    pub pos: Pos,
}

/// A search identifier's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// A list: any element matches.
    AnyOf(Vec<Search>),
    /// A map: every item matches.
    AllOf(Vec<FieldItem>),
    /// A bare value in a list: full-text (keyword) search.
    Keyword(RuleValue, Pos),
}

/// Count quantifier of `N of` / `all of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    All,
    AtLeast(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Ref(String),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    /// `1 of selection*`, `all of them` (`pattern` None means `them`).
    Of {
        quantifier: Quantifier,
        pattern: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DetectionBody {
    pub searches: Vec<(String, Search)>,
    /// Conditions in a list are OR-ed.
    pub conditions: Vec<Condition>,
    pub condition_pos: Pos,
}

/// Fields shared by every kind of Sigma document.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    pub title: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub level: Option<Level>,
    pub tags: Vec<String>,
    pub fields: Vec<String>,
    pub falsepositives: Vec<String>,
    /// Where the document starts, for messages.
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DetectionRule {
    pub meta: Meta,
    pub logsource: Logsource,
    pub detection: DetectionBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl CmpOp {
    pub fn test(self, lhs: f64, rhs: f64) -> bool {
        match self {
            CmpOp::Gt => lhs > rhs,
            CmpOp::Gte => lhs >= rhs,
            CmpOp::Lt => lhs < rhs,
            CmpOp::Lte => lhs <= rhs,
            CmpOp::Eq => lhs == rhs,
            CmpOp::Neq => lhs != rhs,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationRule {
    pub meta: Meta,
    pub kind: CorrelationType,
    /// Referenced rule ids or names, in order (order matters for temporal_ordered).
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    /// Criteria AND-ed; empty for temporal types (meaning "all rules seen").
    pub condition: Vec<(CmpOp, f64)>,
    /// Field for value_count / value_sum / value_avg.
    pub field: Option<String>,
    /// alias -> (rule id or name -> field)
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    pub generate: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilterRule {
    pub meta: Meta,
    pub logsource: Logsource,
    pub rules: Vec<String>,
    pub detection: DetectionBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Detection(DetectionRule),
    Correlation(CorrelationRule),
    Filter(FilterRule),
}

impl Document {
    pub fn meta(&self) -> &Meta {
        match self {
            Document::Detection(r) => &r.meta,
            Document::Correlation(r) => &r.meta,
            Document::Filter(r) => &r.meta,
        }
    }
}
