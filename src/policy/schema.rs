//! The policy file schema (`policies/<ID>.yaml`), as deserialized. Validation beyond the
//! shape (expressions compile, options typed, IDs unique) happens in [`crate::policy`].
//! The schema is documented for users in `docs/policies.md`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::finding::Severity;

/// How often a rule's findings are right (SARIF `precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// Nearly always right.
    VeryHigh,
    /// Usually right.
    High,
    /// Often right.
    Medium,
    /// Sometimes right.
    Low,
}

impl Precision {
    /// The SARIF spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::VeryHigh => "very-high",
            Precision::High => "high",
            Precision::Medium => "medium",
            Precision::Low => "low",
        }
    }
}

/// A fragment: named CEL expressions that policies share (`include: [name]` reads
/// `include/<name>.yaml` beside the policies). Its `let` entries join the including policy's,
/// after them, so they may use the policy's own `let` names.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FragmentFile {
    /// What the fragment provides and what it expects the including policy to define.
    #[serde(default)]
    pub doc: String,
    /// The shared named expressions.
    #[serde(rename = "let")]
    pub lets: BTreeMap<String, Spanned<String>>,
}

/// One policy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Stable rule ID (`DF005`, `ACME001`).
    pub id: Spanned<String>,
    /// Short title.
    pub title: String,
    /// Default severity: `error`, `warning` or `note`.
    pub severity: Severity,
    /// Tags for SARIF (`docker`, `security`, ...).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether findings of the rule are security findings (GitHub code scanning security
    /// alerts, with a `security-severity`).
    #[serde(default)]
    pub security: bool,
    /// GitHub code scanning security severity (0.0–10.0) at the rule's default severity;
    /// makes the rule a security rule.
    #[serde(default)]
    pub security_severity: Option<f64>,
    /// How often the rule's findings are right: `very-high`, `high`, `medium` or `low`
    /// (SARIF `precision`); by default `very-high` for `violations` rules (they point at
    /// offending text), `high` for `require` rules with `each` (a subject lacks something)
    /// and `medium` for `require` rules of the whole repository (missing evidence).
    #[serde(default)]
    pub precision: Option<Precision>,
    /// Where the rule's documentation lives on the web (SARIF `helpUri`); built-in rules
    /// link to their section of the rule reference.
    #[serde(default)]
    pub help_uri: Option<String>,
    /// Documentation sections.
    pub docs: DocsFile,
    /// Fragments whose `let` entries this policy uses (`include/<name>.yaml`).
    #[serde(default)]
    pub include: Vec<String>,
    /// Typed options with defaults, available to expressions as `options.<name>`.
    #[serde(default)]
    pub options: BTreeMap<String, OptionSpec>,
    /// CEL: the list of subjects, each bound to `it` in turn.
    #[serde(default)]
    pub each: Option<Spanned<String>>,
    /// Named CEL expressions, evaluated once per subject (after `it` is bound) and available
    /// to `violations`, `require`, `at` and `message` under their names. They may use `repo`,
    /// `options` and `it`, not each other.
    #[serde(default, rename = "let")]
    pub lets: BTreeMap<String, Spanned<String>>,
    /// CEL: the offending nodes (a list). Exclusive with `require`.
    #[serde(default)]
    pub violations: Option<Spanned<String>>,
    /// CEL: a condition that must hold (per subject with `each`). Exclusive with `violations`.
    #[serde(default)]
    pub require: Option<Spanned<String>>,
    /// CEL: where an unmet `require` points (a node, or null for missing evidence).
    #[serde(default)]
    pub at: Option<Spanned<String>>,
    /// The finding message: text with `{{ CEL }}` parts.
    pub message: Spanned<String>,
    /// With `each`: when there are no subjects at all, one finding with this message at the
    /// missing-evidence location.
    #[serde(default)]
    pub missing: Option<Spanned<String>>,
    /// Inline test cases.
    #[serde(default)]
    pub tests: Vec<TestCase>,
}

/// The documentation sections of a policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocsFile {
    /// What the rule checks.
    pub what: String,
    /// Why it matters.
    pub why: String,
    /// How to fix a finding (shown as help).
    pub fix: String,
    /// How to fix a finding in GitLab's terms: the help of findings in GitLab CI files, when
    /// `fix` speaks GitHub's.
    #[serde(default)]
    pub fix_gitlab: String,
    /// A failing example.
    #[serde(default)]
    pub failing: String,
    /// A passing example.
    #[serde(default)]
    pub passing: String,
    /// Decisions taken where the catalog is silent.
    #[serde(default)]
    pub decisions: String,
}

/// The type of an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionType {
    /// A string (or null).
    String,
    /// An integer.
    Int,
    /// A number.
    Float,
    /// A boolean.
    Bool,
    /// A list of strings.
    List,
    /// A regular expression (a string that must compile).
    Regex,
}

impl OptionType {
    /// The type as a phrase for messages: `a string`, `a list of strings`.
    pub fn described(self) -> &'static str {
        match self {
            OptionType::String => "a string",
            OptionType::Int => "an integer",
            OptionType::Float => "a number",
            OptionType::Bool => "true or false",
            OptionType::List => "a list of strings",
            OptionType::Regex => "a valid regular expression",
        }
    }

    /// Whether `v` is a value of this type (`null` only for strings: "unset").
    pub fn accepts(self, v: &serde_json::Value) -> bool {
        match self {
            OptionType::String => v.is_string() || v.is_null(),
            OptionType::Int => v.is_i64() || v.is_u64(),
            OptionType::Float => v.is_number(),
            OptionType::Bool => v.is_boolean(),
            OptionType::List => v
                .as_array()
                .is_some_and(|a| a.iter().all(serde_json::Value::is_string)),
            OptionType::Regex => v.as_str().is_some_and(|s| regex::Regex::new(s).is_ok()),
        }
    }

    /// The JSON Schema of values of this type.
    pub fn json_schema(self) -> serde_json::Value {
        match self {
            OptionType::String => serde_json::json!({"type": ["string", "null"]}),
            OptionType::Int => serde_json::json!({"type": "integer"}),
            OptionType::Float => serde_json::json!({"type": "number"}),
            OptionType::Bool => serde_json::json!({"type": "boolean"}),
            OptionType::List => serde_json::json!({"type": "array", "items": {"type": "string"}}),
            OptionType::Regex => serde_json::json!({"type": "string", "format": "regex"}),
        }
    }
}

/// One typed option.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    /// The option's type.
    #[serde(rename = "type")]
    pub kind: OptionType,
    /// The default value (null allowed: "unset").
    #[serde(default)]
    pub default: serde_json::Value,
    /// What the option does.
    pub doc: String,
}

/// One inline test case: a small file tree and the exact findings expected of this policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the case shows.
    pub name: String,
    /// Files by relative path → contents.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Option values for this case.
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
    /// Expected findings of this policy, each `RULE FILE:LINE` (empty: none).
    #[serde(default)]
    pub expect: Vec<String>,
}
