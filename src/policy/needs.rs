//! Which parts of the model a policy reads ([`Needs`]), found by scanning its CEL sources
//! for `repo.a.b` paths, and the size of the largest of them in a repository's model, by
//! which policies are spread over evaluation threads.

use std::collections::{BTreeMap, BTreeSet};

use super::val;

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

#[cfg(test)]
mod tests {
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
