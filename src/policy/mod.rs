//! The policy engine: loads policy files (built-in ones embedded in the binary, user ones
//! from `--policy DIR`), validates and compiles every CEL expression once at start-up
//! (a bad policy is a diagnostic pointing into its YAML file), and evaluates policies
//! against a repository model into raw findings.

pub mod fields;
pub mod functions;
pub mod meta;
pub mod schema;
pub mod val;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cel::common::types::{CelList, CelNull};
use cel::common::value::Val;
use cel::objects::Key;
use cel::{Context, Env, Program, Value};
use include_dir::{Dir, include_dir};
use miette::{Diagnostic, NamedSource, SourceSpan};

use crate::location::{LineIndex, Location};
use crate::policy::meta::{RuleDocs, RuleMeta};
use crate::policy::schema::{OptionSpec, PolicyFile, TestCase};

/// The built-in policy pack, embedded at build time.
static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// A policy that could not be loaded or compiled: rendered with its source and a label on
/// the offending part of the YAML file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(shipshape::policy))]
pub struct PolicyError {
    /// What is wrong.
    pub message: String,
    /// The policy file.
    #[source_code]
    pub src: NamedSource<String>,
    /// The offending span.
    #[label("{label}")]
    pub span: SourceSpan,
    /// Label text.
    pub label: String,
    /// Path of the policy file (for plain-text callers).
    pub path: String,
}

/// An expression given on the command line (`shipshape model --query`) that does not
/// compile or fails to evaluate: rendered with the expression and a label on the offending part.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(shipshape::query))]
pub struct QueryError {
    /// What is wrong.
    pub message: String,
    /// The expression.
    #[source_code]
    pub src: NamedSource<String>,
    /// The offending span.
    #[label("{label}")]
    pub span: SourceSpan,
    /// Label text.
    pub label: String,
}

/// An error while evaluating a policy on one repository.
#[derive(Debug, Clone, thiserror::Error)]
#[error("policy {policy} ({path}) failed on {root}: {message}")]
pub struct EvalError {
    /// The policy's ID.
    pub policy: String,
    /// The policy file.
    pub path: String,
    /// The repository root it was evaluated on.
    pub root: String,
    /// The interpreter's message.
    pub message: String,
}

/// One compiled CEL expression and where it came from.
struct Expr {
    program: Program,
}

/// A message template: literal text and `{{ CEL }}` parts.
struct Template {
    parts: Vec<Part>,
}

enum Part {
    Text(String),
    Expr(Expr),
}

/// What a policy evaluates.
enum Body {
    Violations(Expr),
    Require { cond: Expr, at: Option<Expr> },
}

/// A loaded, compiled policy.
pub struct Policy {
    /// The rule's metadata.
    pub meta: RuleMeta,
    /// Where the policy came from (`builtin:policies/DF001.yaml` or a file path).
    pub path: String,
    /// The option specs.
    pub options: BTreeMap<String, OptionSpec>,
    /// The inline test cases.
    pub tests: Vec<TestCase>,
    /// The parts of `repo` the policy's expressions read (see [`Needs`]).
    pub needs: Needs,
    each: Option<Expr>,
    lets: Vec<(String, Expr)>,
    body: Body,
    message: Template,
    missing: Option<Template>,
}

/// The parts of the model a policy reads: `None` for all of it, else each top-level field of
/// `repo` with the second-level fields read under it (`None`: the whole field). Found by
/// scanning the expressions for `repo.a.b` paths; any other use of `repo` means all of it.
/// Used to spread policies over evaluation threads by the size of what they read.
pub type Needs = Option<BTreeMap<String, Option<BTreeSet<String>>>>;

/// Scans CEL sources for the `repo` paths they read.
pub fn scan_needs(sources: &[&str]) -> Needs {
    let mut out: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for src in sources {
        let chars: Vec<char> = src.chars().collect();
        let mut i = 0;
        while i + 4 <= chars.len() {
            let is_repo = chars[i..i + 4].iter().collect::<String>() == "repo"
                && (i == 0 || !(ident(chars[i - 1]) || chars[i - 1] == '.'))
                && chars.get(i + 4).is_none_or(|c| !ident(*c));
            if !is_repo {
                i += 1;
                continue;
            }
            let mut j = i + 4;
            let mut path: Vec<String> = Vec::new();
            while path.len() < 2 {
                let mut k = j;
                while chars.get(k).is_some_and(|c| c.is_whitespace()) {
                    k += 1;
                }
                if chars.get(k) != Some(&'.') {
                    break;
                }
                k += 1;
                while chars.get(k).is_some_and(|c| c.is_whitespace()) {
                    k += 1;
                }
                let start = k;
                while chars.get(k).is_some_and(|c| ident(*c)) {
                    k += 1;
                }
                if start == k {
                    break;
                }
                path.push(chars[start..k].iter().collect());
                j = k;
            }
            match path.as_slice() {
                [] => return None,
                [a] => {
                    out.insert(a.clone(), None);
                }
                [a, b, ..] => {
                    if let Some(entry) = out
                        .entry(a.clone())
                        .or_insert_with(|| Some(BTreeSet::new()))
                    {
                        entry.insert(b.clone());
                    }
                }
            }
            i = j;
        }
    }
    Some(out)
}

/// How many items the largest list a policy reads holds (its evaluation cost's main factor),
/// and that list's path.
pub fn heaviest_read(model: &dyn cel::common::value::Val, needs: &Needs) -> (usize, String) {
    let Some(needs) = needs else {
        return (usize::MAX, String::new());
    };
    let mut best = (0, String::new());
    for (field, subs) in needs {
        let Some(v) = val::field(model, field) else {
            continue;
        };
        let candidates: Vec<(usize, String)> = match subs {
            Some(subs) if val::is_struct(v) => subs
                .iter()
                .filter_map(|s| val::field(v, s).map(|x| (val::size_of(x), format!("{field}.{s}"))))
                .collect(),
            _ => vec![(val::size_of(v), field.clone())],
        };
        for c in candidates {
            if c.0 > best.0 {
                best = c;
            }
        }
    }
    best
}

/// A finding before filtering and fingerprinting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFinding {
    /// The rule ID.
    pub rule: String,
    /// The message.
    pub message: String,
    /// Where it points.
    pub location: Location,
}

/// All loaded policies and the CEL environment they were compiled in.
pub struct PolicySet {
    /// Policies sorted by ID.
    pub policies: Vec<Policy>,
    env: Arc<Env>,
}

/// Builds the CEL environment: the standard library plus the strings and lists extensions.
fn environment() -> Env {
    let mut env = Env::stdlib();
    // Both extensions register fresh names on a fresh stdlib environment; a failure here
    // would be a programming error caught by every test.
    let _ = env.add_extension(cel::extensions::strings);
    let _ = env.add_extension(cel::extensions::lists);
    env
}

impl PolicySet {
    /// Loads the built-in pack (unless `builtin` is false) and every `*.yaml`/`*.yml` in
    /// `dirs`. Fails on the first policy that does not parse or compile, or a duplicate ID.
    pub fn load(builtin: bool, dirs: &[PathBuf]) -> Result<PolicySet, Box<PolicyError>> {
        let env = Arc::new(environment());
        let mut sources: Vec<(String, String)> = Vec::new();
        if builtin {
            let mut files: Vec<_> = BUILTIN
                .files()
                .filter(|f| f.path().extension().is_some_and(|e| e == "yaml"))
                .collect();
            files.sort_by_key(|f| f.path().to_path_buf());
            for f in files {
                let text = f.contents_utf8().unwrap_or("").to_string();
                sources.push((format!("policies/{}", f.path().display()), text));
            }
        }
        let mut user_count = 0;
        for dir in dirs {
            let found = read_policy_dir(dir)?;
            user_count += found.len();
            sources.extend(found);
        }
        let mut policies = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let builtin_count = sources.len() - user_count;
        for (i, (path, text)) in sources.into_iter().enumerate() {
            let mut policy = compile_policy(&env, &path, &text)?;
            if i < builtin_count && policy.meta.help_uri.is_none() {
                policy.meta.help_uri = Some(meta::rule_reference_uri(&policy.meta.id));
            }
            if !seen.insert(policy.meta.id.clone()) {
                let id = policy.meta.id.clone();
                return Err(error_at(
                    &path,
                    &text,
                    0,
                    2,
                    format!("duplicate policy ID {id}: another policy already uses it"),
                    "duplicate ID",
                ));
            }
            policies.push(policy);
        }
        policies.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        Ok(PolicySet { policies, env })
    }

    /// Compiles one policy from text (used by tests and `--policy`).
    pub fn compile_one(path: &str, text: &str) -> Result<Policy, Box<PolicyError>> {
        compile_policy(&Arc::new(environment()), path, text)
    }

    /// A policy's documentation as Markdown, with its options (type, default, meaning).
    pub fn reference(&self, policy: &Policy) -> String {
        let mut out = policy.meta.markdown();
        if !policy.options.is_empty() {
            out.push_str(
                "\n## Options\n\n| option | type | default | meaning |\n|---|---|---|---|\n",
            );
            for (name, spec) in &policy.options {
                out.push_str(&format!(
                    "| `{name}` | {} | `{}` | {} |\n",
                    format!("{:?}", spec.kind).to_lowercase(),
                    // `|` would end a table cell, even inside a code span.
                    spec.default.to_string().replace('|', "\\|"),
                    spec.doc.trim().replace('\n', " ").replace('|', "\\|")
                ));
            }
        }
        out
    }

    /// The generated rule reference (`docs/rules.md`): every rule's documentation.
    pub fn catalog_markdown(&self) -> String {
        let mut out = String::from(
            "# Rule reference\n\nGenerated from `policies/*.yaml`; a test keeps it in sync (regenerate with\n`SHIPSHAPE_BLESS=1 cargo test`). `shipshape explain RULE` prints one rule.\n\n",
        );
        for p in &self.policies {
            out.push_str(&format!(
                "- [{} — {}](#{})\n",
                p.meta.id,
                p.meta.title,
                p.meta.id.to_ascii_lowercase()
            ));
        }
        for p in &self.policies {
            out.push('\n');
            out.push_str(&format!(
                "<a id=\"{}\"></a>\n\n",
                p.meta.id.to_ascii_lowercase()
            ));
            out.push_str(
                &self
                    .reference(p)
                    .replacen("# ", "## ", 1)
                    .replace("\n## ", "\n### "),
            );
        }
        out
    }

    /// Metadata of every policy, in ID order.
    pub fn metas(&self) -> Vec<RuleMeta> {
        self.policies.iter().map(|p| p.meta.clone()).collect()
    }

    /// An evaluation context for one repository: the custom functions, `repo`, the model
    /// as built once by [`val::from_model`] (sharing it is a reference-count increment), and
    /// `definitions`, the catalog's vocabularies in effect (a map of lists of strings).
    pub fn context(
        &self,
        repo: &(dyn Val + 'static),
        definitions: &crate::definitions::Definitions,
    ) -> Result<Context<'static, 'static>, String> {
        let mut ctx = Context::with_env(self.env.clone());
        functions::register(&mut ctx).map_err(|e| e.to_string())?;
        ctx.add_variable_as_val("repo", repo.clone_as_boxed());
        let defs = serde_json::to_value(definitions).map_err(|e| e.to_string())?;
        ctx.add_variable_from_value(
            "definitions",
            cel::to_value(defs).map_err(|e| e.to_string())?,
        );
        Ok(ctx)
    }

    /// Evaluates a CEL expression over a repository's model (`repo`), in the environment and
    /// with the functions policies use, and returns its value as JSON.
    pub fn query(
        &self,
        src: &str,
        repo: &(dyn Val + 'static),
        definitions: &crate::definitions::Definitions,
    ) -> Result<serde_json::Value, Box<QueryError>> {
        let error = |message: String, offset: usize, len: usize, label: &str| {
            Box::new(QueryError {
                message,
                src: NamedSource::new("--query", src.to_string()),
                span: (
                    offset.min(src.len()),
                    len.min(src.len() - offset.min(src.len())),
                )
                    .into(),
                label: label.to_string(),
            })
        };
        let whole = |message: String| error(message, 0, src.len(), "in this expression");
        let program = self.env.compile(src).map_err(|errs| {
            let first = errs.errors.first();
            let msg = first.map_or_else(|| errs.to_string(), |e| e.msg.clone());
            let (line, col) = first.map_or((1, 0), |e| (e.pos.0.max(1), e.pos.1.max(0)));
            // An error at the end points at the last character.
            let offset = expression_offset(src, line as usize, col as usize)
                .min(src.len().saturating_sub(1));
            error(
                format!("the expression does not compile: {msg}"),
                offset,
                1,
                &msg,
            )
        })?;
        let known = fields::Known::default();
        if let Some(u) = fields::check(program.expression(), program.source_info(), src, &known) {
            let label = u.suggestion.as_ref().map_or_else(
                || "not a model field".to_string(),
                |s| format!("did you mean `{s}`?"),
            );
            return Err(error(
                format!("the expression does not compile: {}", u.message()),
                u.offset,
                u.name.len(),
                &label,
            ));
        }
        let ctx = self.context(repo, definitions).map_err(whole)?;
        let v = eval(&program, &ctx).map_err(|e| whole(format!("the expression fails: {e}")))?;
        to_json(&v).ok_or_else(|| whole("the expression's value has no JSON form".to_string()))
    }

    /// Evaluates `policy` in a repository's context (see [`PolicySet::context`]), with
    /// `fallback` as the missing-evidence location and `overrides` replacing option defaults.
    pub fn evaluate(
        &self,
        policy: &Policy,
        base: &Context<'_, '_>,
        root: &str,
        fallback: &Location,
        overrides: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Vec<RawFinding>, EvalError> {
        let fail = |message: String| EvalError {
            policy: policy.meta.id.clone(),
            path: policy.path.clone(),
            root: root.to_string(),
            message,
        };
        let mut opts = serde_json::Map::new();
        for (name, spec) in &policy.options {
            let v = overrides
                .get(name)
                .cloned()
                .unwrap_or_else(|| spec.default.clone());
            opts.insert(name.clone(), v);
        }
        let opts =
            cel::to_value(serde_json::Value::Object(opts)).map_err(|e| fail(e.to_string()))?;
        let mut ctx = base.new_inner_scope();
        ctx.add_variable_from_value("options", opts);
        let mut out = Vec::new();
        let id = &policy.meta.id;
        // Values are resolved without leaving the interpreter where possible: converting
        // model structs to `Value` and back copies them deeply.
        let each_val = match &policy.each {
            Some(each) => Some(
                Value::resolve_val(each.program.expression(), &ctx)
                    .map_err(|e| fail(e.to_string()))?
                    .into_owned(),
            ),
            None => None,
        };
        let subjects: Vec<Option<Box<dyn Val>>> = match &each_val {
            Some(v) => {
                if let Some(list) = v.downcast_ref::<CelList>() {
                    list.inner()
                        .iter()
                        .map(|i| Some(i.clone_as_boxed()))
                        .collect()
                } else if v.downcast_ref::<CelNull>().is_some() {
                    Vec::new()
                } else {
                    return Err(fail(format!(
                        "`each` must give a list, got {}",
                        v.get_type().name()
                    )));
                }
            }
            None => vec![None],
        };
        if subjects.is_empty() {
            if let Some(missing) = &policy.missing {
                let message = render(missing, &ctx).map_err(fail)?;
                out.push(RawFinding {
                    rule: id.clone(),
                    message,
                    location: fallback.clone(),
                });
            }
            return Ok(out);
        }
        for subject in subjects {
            let mut scope = ctx.new_inner_scope();
            if let Some(s) = subject {
                scope.add_variable_as_val("it", s);
            }
            for (name, expr) in &policy.lets {
                let v = Value::resolve_val(expr.program.expression(), &scope)
                    .map_err(|e| fail(format!("let {name}: {e}")))?
                    .into_owned();
                scope.add_variable_as_val(name.clone(), v);
            }
            match &policy.body {
                Body::Violations(expr) => {
                    let v = eval(&expr.program, &scope).map_err(|e| fail(e.to_string()))?;
                    let items = match v {
                        Value::List(items) => items.iter().cloned().collect::<Vec<_>>(),
                        Value::Null => Vec::new(),
                        other => vec![other],
                    };
                    for item in items {
                        let location = node_location(&item).unwrap_or_else(|| fallback.clone());
                        let explicit = map_get(&item, "message").and_then(|m| match m {
                            Value::String(s) => Some(s.to_string()),
                            _ => None,
                        });
                        let message = match explicit {
                            Some(m) => m,
                            None => {
                                let mut vs = scope.new_inner_scope();
                                vs.add_variable_from_value("v", item.clone());
                                render(&policy.message, &vs).map_err(fail)?
                            }
                        };
                        out.push(RawFinding {
                            rule: id.clone(),
                            message,
                            location,
                        });
                    }
                }
                Body::Require { cond, at } => {
                    let ok = eval(&cond.program, &scope).map_err(|e| fail(e.to_string()))?;
                    match ok {
                        Value::Bool(true) => {}
                        Value::Bool(false) => {
                            let location = match at {
                                Some(at) => {
                                    let node = eval(&at.program, &scope)
                                        .map_err(|e| fail(e.to_string()))?;
                                    node_location(&node).unwrap_or_else(|| fallback.clone())
                                }
                                None => fallback.clone(),
                            };
                            let message = render(&policy.message, &scope).map_err(fail)?;
                            out.push(RawFinding {
                                rule: id.clone(),
                                message,
                                location,
                            });
                        }
                        other => {
                            return Err(fail(format!(
                                "`require` must give a bool, got {:?}",
                                other.type_of()
                            )));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Reads every policy file of a directory (sorted by name).
fn read_policy_dir(dir: &Path) -> Result<Vec<(String, String)>, Box<PolicyError>> {
    let plain = |message: String| {
        Box::new(PolicyError {
            message,
            src: NamedSource::new(dir.display().to_string(), String::new()),
            span: (0, 0).into(),
            label: String::new(),
            path: dir.display().to_string(),
        })
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        plain(format!(
            "cannot read policy directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p)
            .map_err(|e| plain(format!("cannot read policy {}: {e}", p.display())))?;
        out.push((p.display().to_string(), text));
    }
    Ok(out)
}

/// A policy error labelled at 1-based `line`/`col` of the file (line 0: the start), to the
/// end of the line.
fn error_at(
    path: &str,
    text: &str,
    line: u32,
    col: u32,
    message: String,
    label: &str,
) -> Box<PolicyError> {
    error_span(path, text, line, col, None, message, label)
}

/// A policy error labelled at 1-based `line`/`col` of the file (line 0: the start), `chars`
/// characters long (`None`: to the end of the line).
fn error_span(
    path: &str,
    text: &str,
    line: u32,
    col: u32,
    chars: Option<usize>,
    message: String,
    label: &str,
) -> Box<PolicyError> {
    let idx = LineIndex::new(text);
    let offset = if line == 0 {
        0
    } else {
        idx.line_start(line).map_or(0, |s| {
            let line_text = &text[s..];
            let byte = line_text
                .char_indices()
                .nth(col.saturating_sub(1) as usize)
                .map_or(line_text.len(), |(b, _)| b);
            s + byte
        })
    };
    let eol = text[offset.min(text.len())..]
        .find('\n')
        .unwrap_or(text.len() - offset.min(text.len()));
    let wanted = chars.map_or(eol, |n| {
        text[offset.min(text.len())..]
            .char_indices()
            .nth(n)
            .map_or(eol, |(b, _)| b.min(eol))
    });
    let len = wanted.max(1).min(text.len().saturating_sub(offset));
    Box::new(PolicyError {
        message: format!("{path}: {message}"),
        src: NamedSource::new(path, text.to_string()),
        span: (offset.min(text.len()), len).into(),
        label: label.to_string(),
        path: path.to_string(),
    })
}

fn compile_policy(env: &Env, path: &str, text: &str) -> Result<Policy, Box<PolicyError>> {
    let file: PolicyFile = serde_saphyr::from_str_with_options(text, crate::load::yaml::options())
        .map_err(|e| {
            let (line, col) = e
                .location()
                .map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
            let msg = e.to_string().lines().next().unwrap_or("").to_string();
            error_at(
                path,
                text,
                line,
                col,
                format!("invalid policy file: {msg}"),
                "here",
            )
        })?;
    let id = file.id.value.clone();
    let id_line = file.id.referenced.line() as u32;
    let valid_id = !id.is_empty()
        && id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_id {
        return Err(error_at(
            path,
            text,
            id_line,
            1,
            format!("invalid policy ID {id:?}"),
            "IDs are letters, digits, `_` and `-`",
        ));
    }
    // An error at the first `name:` line of the file.
    let at_option = |name: &str, message: String, label: &str| {
        let line = find_line(text, &format!("{name}:")).unwrap_or(1);
        error_at(path, text, line, 1, message, label)
    };
    for (name, spec) in &file.options {
        let ok = spec.default.is_null() || spec.kind.accepts(&spec.default);
        if !ok {
            return Err(at_option(
                name,
                format!(
                    "option {name}: the default is not {}",
                    spec.kind.described()
                ),
                "wrong default",
            ));
        }
    }
    // What selections may name besides model fields (see `fields::check`).
    let mut known = fields::Known {
        options: file.options.keys().cloned().collect(),
        ..fields::Known::default()
    };
    let mut plain: Vec<&str> = file.lets.values().map(|e| e.value.as_str()).collect();
    for e in [&file.each, &file.violations, &file.require, &file.at]
        .into_iter()
        .flatten()
    {
        plain.push(&e.value);
    }
    for t in std::iter::once(&file.message).chain(file.missing.as_ref()) {
        plain.extend(template_exprs(&t.value));
    }
    for src in plain {
        // Expressions that do not compile are reported when they are compiled below.
        if let Ok(p) = env.compile(src) {
            known.add_built(p.expression());
        }
    }
    let compile =
        |s: &serde_saphyr::Spanned<String>, what: &str| -> Result<Expr, Box<PolicyError>> {
            let at = ExprAt {
                value: &s.value,
                base: 0,
                at: &s.referenced,
            };
            compile_expr(env, path, text, &s.value, &at, what, &known)
        };
    let mut lets = Vec::new();
    for (name, e) in &file.lets {
        let reserved = ["repo", "options", "it", "v", "definitions"];
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if reserved.contains(&name.as_str()) || !valid {
            return Err(error_at(
                path,
                text,
                e.referenced.line() as u32,
                1,
                format!("`let` name {name:?} is reserved or not an identifier"),
                "rename it",
            ));
        }
        lets.push((name.clone(), compile(e, "let")?));
    }
    let each = file.each.as_ref().map(|e| compile(e, "each")).transpose()?;
    let body = match (&file.violations, &file.require) {
        (Some(v), None) => {
            if file.at.is_some() {
                let line = file.at.as_ref().map_or(1, |a| a.referenced.line() as u32);
                return Err(error_at(
                    path,
                    text,
                    line,
                    1,
                    "`at` goes with `require`, not `violations`".into(),
                    "remove `at`",
                ));
            }
            Body::Violations(compile(v, "violations")?)
        }
        (None, Some(r)) => Body::Require {
            cond: compile(r, "require")?,
            at: file.at.as_ref().map(|a| compile(a, "at")).transpose()?,
        },
        _ => {
            return Err(error_at(
                path,
                text,
                id_line,
                1,
                "a policy needs exactly one of `violations` or `require`".into(),
                "in this policy",
            ));
        }
    };
    if file.missing.is_some() && each.is_none() {
        let line = file
            .missing
            .as_ref()
            .map_or(1, |m| m.referenced.line() as u32);
        return Err(error_at(
            path,
            text,
            line,
            1,
            "`missing` needs `each`".into(),
            "no `each` in this policy",
        ));
    }
    let message = compile_template(env, path, text, &file.message, &known)?;
    let missing = file
        .missing
        .as_ref()
        .map(|m| compile_template(env, path, text, m, &known))
        .transpose()?;
    for case in &file.tests {
        for e in &case.expect {
            if parse_expectation(e).is_none() {
                let line = find_line(text, e).unwrap_or(1);
                return Err(error_at(
                    path,
                    text,
                    line,
                    1,
                    format!(
                        "test {:?}: expectation {e:?} is not `RULE FILE:LINE`",
                        case.name
                    ),
                    "bad expectation",
                ));
            }
        }
        for (name, value) in &case.options {
            if let Some(spec) = file.options.get(name)
                && !spec.kind.accepts(value)
            {
                return Err(at_option(
                    name,
                    format!(
                        "test {:?} sets option {name} to {value}, which is not {}",
                        case.name,
                        spec.kind.described()
                    ),
                    "wrong type",
                ));
            }
            if !file.options.contains_key(name) {
                return Err(at_option(
                    name,
                    format!("test {:?} sets unknown option {name}", case.name),
                    "unknown option",
                ));
            }
        }
    }
    let mut sources: Vec<&str> = vec![file.message.value.as_str()];
    sources.extend(file.each.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.violations.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.require.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.at.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.missing.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.lets.values().map(|e| e.value.as_str()));
    // Rules that point at offending text are nearly always right; a requirement per subject
    // claims that subject lacks something, and a requirement of the whole repository claims
    // that evidence is missing from all of it.
    let precision = match (&file.violations, &file.each) {
        (Some(_), _) => schema::Precision::VeryHigh,
        (None, Some(_)) => schema::Precision::High,
        (None, None) => schema::Precision::Medium,
    };
    let needs = scan_needs(&sources);
    Ok(Policy {
        needs,
        meta: RuleMeta {
            id,
            title: file.title,
            severity: file.severity,
            tags: file.tags,
            security: file.security || file.security_severity.is_some(),
            security_severity: file.security_severity,
            precision: file.precision.unwrap_or(precision),
            help_uri: file.help_uri,
            docs: RuleDocs {
                what: file.docs.what,
                why: file.docs.why,
                failing: file.docs.failing,
                passing: file.docs.passing,
                decisions: file.docs.decisions,
                fix: file.docs.fix,
                fix_gitlab: file.docs.fix_gitlab,
            },
        },
        path: path.to_string(),
        options: file.options,
        tests: file.tests,
        each,
        lets,
        body,
        message,
        missing,
    })
}

/// Parses `RULE FILE:LINE` into its parts.
pub fn parse_expectation(s: &str) -> Option<(String, String, u32)> {
    let (rule, rest) = s.trim().split_once(char::is_whitespace)?;
    let (file, line) = rest.trim().rsplit_once(':')?;
    Some((rule.to_string(), file.to_string(), line.parse().ok()?))
}

fn find_line(text: &str, needle: &str) -> Option<u32> {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
}

/// Where an expression is in the policy file: `base` bytes into the YAML scalar `value`
/// (a message template's `{{ }}` part), the scalar being at `at`.
struct ExprAt<'a> {
    value: &'a str,
    base: usize,
    at: &'a serde_saphyr::Location,
}

impl ExprAt<'_> {
    /// The file position of a byte offset into the expression.
    fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let (eline, ecol) = line_col(self.value, self.base + offset);
        expression_position(text, self.at, eline, ecol)
    }
}

/// The (1-based line, 0-based character column) of a byte offset in `s`.
fn line_col(s: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(s.len());
    let before = s.get(..offset).unwrap_or(s);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
    (line as u32, col as u32)
}

/// Compiles an expression; a parse error, or a field selection that names no model field
/// (or no declared option), is labelled at its position inside the YAML file.
fn compile_expr(
    env: &Env,
    path: &str,
    text: &str,
    src: &str,
    at: &ExprAt<'_>,
    what: &str,
    known: &fields::Known,
) -> Result<Expr, Box<PolicyError>> {
    let program = env.compile(src).map_err(|errs| {
        let first = errs.errors.first();
        let (eline, ecol) = first.map_or((1, 0), |e| {
            (e.pos.0.max(1) as usize, e.pos.1.max(0) as usize)
        });
        let msg = first.map_or_else(|| errs.to_string(), |e| e.msg.clone());
        let (line, col) = at.position(text, expression_offset(src, eline, ecol));
        error_at(
            path,
            text,
            line,
            col,
            format!("`{what}` does not compile: {msg}"),
            &msg,
        )
    })?;
    if let Some(u) = fields::check(program.expression(), program.source_info(), src, known) {
        let (line, col) = at.position(text, u.offset);
        let label = match &u.suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => match u.on {
                fields::Scope::Options => "not a declared option".to_string(),
                fields::Scope::Definitions => {
                    "not a definition list (see docs/configuration.md)".to_string()
                }
                fields::Scope::Model => "not a model field (see docs/model.md)".to_string(),
            },
        };
        return Err(error_span(
            path,
            text,
            line,
            col,
            Some(u.name.chars().count()),
            format!("`{what}` does not compile: {}", u.message()),
            &label,
        ));
    }
    Ok(Expr { program })
}

/// The byte offset of a (1-based line, 0-based character column) inside an expression.
fn expression_offset(src: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return start + l.char_indices().nth(col).map_or(l.len(), |(b, _)| b);
        }
        start += l.len();
    }
    src.len()
}

/// Maps a (1-based line, 0-based column) inside an expression onto the policy file: a
/// single-line scalar starts at the value's position; a block scalar's lines start at the
/// value's line with that line's indentation.
fn expression_position(
    text: &str,
    at: &serde_saphyr::Location,
    eline: u32,
    ecol: u32,
) -> (u32, u32) {
    let vline = at.line() as u32;
    let vcol = at.column() as u32;
    let lines: Vec<&str> = text.lines().collect();
    let key_line = lines
        .get(vline.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("");
    // A block scalar's value starts its line (after the indentation); a single-line scalar
    // follows its key.
    let is_block = vcol as usize == key_line.len() - key_line.trim_start().len() + 1;
    if eline == 1 && !is_block {
        // A quoted scalar's position is its opening quote.
        let quoted = key_line
            .chars()
            .nth((vcol as usize).saturating_sub(1))
            .is_some_and(|c| c == '"' || c == '\'');
        return (vline, vcol + ecol + u32::from(quoted));
    }
    // Every line of a block scalar starts at the block's indentation, where its first line's
    // content starts; deeper lines keep their extra indentation in the expression.
    let line = vline + eline - 1;
    let indent = if is_block {
        vcol.saturating_sub(1)
    } else {
        lines
            .get(line.saturating_sub(1) as usize)
            .map_or(0, |l| l.len() - l.trim_start().len()) as u32
    };
    (line, indent + ecol + 1)
}

/// The `{{ }}` expressions of a message template (an unclosed one is left out).
fn template_exprs(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    out
}

fn compile_template(
    env: &Env,
    path: &str,
    text: &str,
    s: &serde_saphyr::Spanned<String>,
    known: &fields::Known,
) -> Result<Template, Box<PolicyError>> {
    let mut parts = Vec::new();
    let mut rest = s.value.as_str();
    // Where `rest` starts in the message.
    let mut pos = 0;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let after_pos = pos + start + 2;
        let Some(end) = after.find("}}") else {
            let line = s.referenced.line() as u32;
            return Err(error_at(
                path,
                text,
                line,
                1,
                "unclosed `{{` in message".into(),
                "here",
            ));
        };
        let inner = &after[..end];
        let at = ExprAt {
            value: &s.value,
            base: after_pos + inner.len() - inner.trim_start().len(),
            at: &s.referenced,
        };
        let expr = compile_expr(env, path, text, inner.trim(), &at, "message", known)?;
        parts.push(Part::Expr(expr));
        rest = &after[end + 2..];
        pos = after_pos + end + 2;
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(Template { parts })
}

/// Evaluates `program` to a `cel::Value`, model objects included (see [`val::to_value`]).
fn eval(program: &cel::Program, ctx: &Context) -> Result<Value, cel::ExecutionError> {
    let v = Value::resolve_val(program.expression(), ctx)?;
    val::to_value(v.as_ref())
}

fn render(t: &Template, ctx: &Context) -> Result<String, String> {
    let mut out = String::new();
    for p in &t.parts {
        match p {
            Part::Text(s) => out.push_str(s),
            Part::Expr(e) => {
                let v = eval(&e.program, ctx).map_err(|e| e.to_string())?;
                out.push_str(&display_value(&v));
            }
        }
    }
    Ok(out.trim().to_string())
}

/// A field of a map or model struct value.
fn map_get(v: &Value, key: &str) -> Option<Value> {
    match v {
        Value::Map(m) => m.map.get(&Key::String(Arc::new(key.to_string()))).cloned(),
        Value::Struct(st) => st.field_value(key).and_then(|f| Value::try_from(f).ok()),
        _ => None,
    }
}

/// A value as JSON (model structs included), for messages and locations.
fn to_json(v: &Value) -> Option<serde_json::Value> {
    match v {
        Value::Struct(st) => Some(serde_json::Value::Object(
            st.field_values()
                .iter()
                .filter_map(|(k, f)| {
                    Some((k.clone(), to_json(&Value::try_from(f.as_ref()).ok()?)?))
                })
                .collect(),
        )),
        Value::List(items) => Some(serde_json::Value::Array(
            items.iter().filter_map(to_json).collect(),
        )),
        Value::Map(m) => Some(serde_json::Value::Object(
            m.map
                .iter()
                .filter_map(|(k, x)| {
                    let k = match k {
                        Key::String(s) => s.to_string(),
                        Key::Int(i) => i.to_string(),
                        Key::Uint(u) => u.to_string(),
                        Key::Bool(b) => b.to_string(),
                    };
                    Some((k, to_json(x)?))
                })
                .collect(),
        )),
        other => other.json().ok(),
    }
}

/// How a CEL value reads inside a message.
fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::List(items) => items
            .iter()
            .map(display_value)
            .collect::<Vec<_>>()
            .join(", "),
        other => to_json(other).map(|j| j.to_string()).unwrap_or_default(),
    }
}

/// The location of a node returned by a policy: the node's `loc`, an `{at: node}` wrapper's
/// node, or a location itself. `None` (null, or no location) means missing evidence.
pub fn node_location(v: &Value) -> Option<Location> {
    if let Some(loc) = map_get(v, "loc") {
        return node_location(&loc);
    }
    if let Some(at) = map_get(v, "at") {
        return node_location(&at);
    }
    if map_get(v, "file").is_some() && map_get(v, "line").is_some() {
        return serde_json::from_value(to_json(v)?).ok();
    }
    None
}

#[cfg(test)]
mod needs_tests {
    use super::*;

    #[test]
    fn scans_repo_paths() {
        let n = scan_needs(&[
            "repo.ci.runs.filter(r, r.x) + repo.files",
            "has(repo.ci.anchor) ? 1 : repo . ci . jobs",
        ]);
        let want: BTreeMap<String, Option<BTreeSet<String>>> = [
            (
                "ci".to_string(),
                Some(
                    ["anchor", "jobs", "runs"]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                ),
            ),
            ("files".to_string(), None),
        ]
        .into_iter()
        .collect();
        assert_eq!(n, Some(want));
        assert_eq!(scan_needs(&["size(repo) > 0"]), None);
        assert_eq!(scan_needs(&["myrepo.x + it.repo.y"]), Some(BTreeMap::new()));
        assert_eq!(
            scan_needs(&["repo.ci"]).and_then(|m| m.get("ci").cloned()),
            Some(None)
        );
    }
}
