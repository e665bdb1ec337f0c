//! Custom CEL functions available to every policy: cached regular expressions (the built-in
//! `matches` recompiles its pattern on every call), glob matching, semantic-version
//! comparison and path helpers. Documented for users in `docs/policies.md`.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use cel::extractors::This;
use cel::{Context, ExecutionError, FunctionContext};

/// Most compiled patterns kept per thread before the cache is cleared.
const CACHE_LIMIT: usize = 512;

thread_local! {
    static REGEXES: RefCell<HashMap<String, Arc<regex::Regex>>> = RefCell::new(HashMap::new());
    static GLOBS: RefCell<HashMap<String, Arc<globset::GlobMatcher>>> = RefCell::new(HashMap::new());
}

fn regex(ftx: &FunctionContext, pattern: &str) -> Result<Arc<regex::Regex>, ExecutionError> {
    REGEXES.with(|cache| {
        if let Some(r) = cache.borrow().get(pattern) {
            return Ok(r.clone());
        }
        let r = Arc::new(
            regex::Regex::new(pattern)
                .map_err(|e| ftx.error(format!("invalid regular expression {pattern:?}: {e}")))?,
        );
        let mut c = cache.borrow_mut();
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(pattern.to_string(), r.clone());
        Ok(r)
    })
}

fn glob(ftx: &FunctionContext, pattern: &str) -> Result<Arc<globset::GlobMatcher>, ExecutionError> {
    GLOBS.with(|cache| {
        if let Some(g) = cache.borrow().get(pattern) {
            return Ok(g.clone());
        }
        let g = globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .build()
            .map_err(|e| ftx.error(format!("invalid glob {pattern:?}: {e}")))?;
        let g = Arc::new(g.compile_matcher());
        let mut c = cache.borrow_mut();
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(pattern.to_string(), g.clone());
        Ok(g)
    })
}

/// `s.reMatches(pattern)`: whether the regular expression (Rust `regex` syntax, unanchored)
/// matches somewhere in `s`.
fn re_matches(
    ftx: &FunctionContext,
    This(s): This<Arc<String>>,
    pattern: Arc<String>,
) -> Result<bool, ExecutionError> {
    Ok(regex(ftx, &pattern)?.is_match(&s))
}

/// `s.reFind(pattern)`: the first match of the pattern in `s`, or `""`.
fn re_find(
    ftx: &FunctionContext,
    This(s): This<Arc<String>>,
    pattern: Arc<String>,
) -> Result<cel::Value, ExecutionError> {
    Ok(cel::Value::from(
        regex(ftx, &pattern)?
            .find(&s)
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
    ))
}

/// `s.globMatches(pattern)`: whether the whole of `s` matches the glob (`*` also matches `/`).
fn glob_matches(
    ftx: &FunctionContext,
    This(s): This<Arc<String>>,
    pattern: Arc<String>,
) -> Result<bool, ExecutionError> {
    Ok(glob(ftx, &pattern)?.is_match(s.as_str()))
}

/// The strings of a CEL list argument (other items are ignored).
fn strings_of(list: &cel::Value) -> Vec<Arc<String>> {
    match list {
        cel::Value::List(items) => items
            .iter()
            .filter_map(|i| match i {
                cel::Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `s.globMatchesAny(patterns)`: whether `s` matches one of the globs of a list.
fn glob_matches_any(
    ftx: &FunctionContext,
    This(s): This<Arc<String>>,
    patterns: cel::Value,
) -> Result<bool, ExecutionError> {
    for p in strings_of(&patterns) {
        if glob(ftx, &p)?.is_match(s.as_str()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `s.startsWithWordsAny(prefixes)`: whether `s` is one of the prefixes, or starts with one
/// followed by a space (`"biome check ."` starts with the words `"biome check"`, not
/// `"bio"`).
fn starts_with_words_any(This(s): This<Arc<String>>, prefixes: cel::Value) -> bool {
    strings_of(&prefixes).iter().any(|p| {
        s.as_str() == p.as_str() || (s.starts_with(p.as_str()) && s[p.len()..].starts_with(' '))
    })
}

/// `semverCompare(a, b)`: -1, 0 or 1 comparing two versions numerically part by part
/// (`v` prefixes and pre-release suffixes after `-` are ignored; missing parts are 0).
fn semver_compare(This(a): This<Arc<String>>, b: Arc<String>) -> i64 {
    match compare_versions(&a, &b) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

/// `path.basename()`: the last `/`-separated part of a path.
fn basename(This(p): This<Arc<String>>) -> String {
    p.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string()
}

/// `path.dirname()`: everything before the last `/`, or `"."`.
fn dirname(This(p): This<Arc<String>>) -> String {
    match p.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/".to_string(),
        Some((d, _)) => d.to_string(),
        None => ".".to_string(),
    }
}

/// Compares dotted numeric versions (see [`semver_compare`]).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn parts(v: &str) -> Vec<u64> {
        let v = v.trim().trim_start_matches(['v', 'V', '=', '^', '~']);
        let core = v.split(['-', '+']).next().unwrap_or("");
        core.split('.')
            .map(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .unwrap_or(0)
            })
            .collect()
    }
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let (x, y) = (
            pa.get(i).copied().unwrap_or(0),
            pb.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

/// Registers every custom function on a root context.
pub fn register(ctx: &mut Context) -> Result<(), cel::DeclarationError> {
    ctx.add_function("reMatches", re_matches)?;
    ctx.add_function("reFind", re_find)?;
    ctx.add_function("globMatches", glob_matches)?;
    ctx.add_function("globMatchesAny", glob_matches_any)?;
    ctx.add_function("startsWithWordsAny", starts_with_words_any)?;
    ctx.add_function("semverCompare", semver_compare)?;
    ctx.add_function("basename", basename)?;
    ctx.add_function("dirname", dirname)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str) -> Result<cel::Value, ExecutionError> {
        let env = Arc::new(cel::Env::stdlib());
        let prog = env.compile(expr).expect("compiles");
        let mut ctx = Context::with_env(env);
        register(&mut ctx).expect("registers");
        prog.execute(&ctx)
    }

    #[test]
    fn functions_behave() {
        let t = cel::Value::Bool(true);
        assert_eq!(
            eval("'node:18-alpine'.reMatches('^node:.*-alpine')"),
            Ok(t.clone())
        );
        assert_eq!(eval("reMatches('abc', 'x')"), Ok(cel::Value::Bool(false)));
        assert_eq!(
            eval("'node:18-alpine3.19'.globMatches('node:*-alpine*')"),
            Ok(t.clone())
        );
        assert_eq!(
            eval("'node:20'.globMatches('node:*-alpine*')"),
            Ok(cel::Value::Bool(false))
        );
        assert_eq!(
            eval("'v1.10.0'.semverCompare('1.9.3')"),
            Ok(cel::Value::Int(1))
        );
        assert_eq!(
            eval("semverCompare('18', '18.0.0')"),
            Ok(cel::Value::Int(0))
        );
        assert_eq!(
            eval("'a/b/c.yml'.basename()"),
            Ok(cel::Value::from("c.yml"))
        );
        assert_eq!(eval("'a/b/c.yml'.dirname()"), Ok(cel::Value::from("a/b")));
        assert_eq!(eval("'x1y22'.reFind('[0-9]+')"), Ok(cel::Value::from("1")));
        assert_eq!(
            eval("'lint:ci'.globMatchesAny(['test', 'lint:*'])"),
            Ok(t.clone())
        );
        assert_eq!(
            eval("'linter'.globMatchesAny(['lint', 'lint:*'])"),
            Ok(cel::Value::Bool(false))
        );
        assert_eq!(
            eval("'biome check .'.startsWithWordsAny(['eslint', 'biome check'])"),
            Ok(t.clone())
        );
        assert_eq!(
            eval("'eslint-x .'.startsWithWordsAny(['eslint'])"),
            Ok(cel::Value::Bool(false))
        );
        assert_eq!(
            eval("'eslint'.startsWithWordsAny(['eslint'])"),
            Ok(t.clone())
        );
        assert!(eval("'a'.reMatches('(')").is_err());
    }
}
