//! Which repositories a fleet run checks: sources given on the command line (a checkout, a
//! bare repository, or a directory whose subdirectories are repositories) and a manifest
//! (YAML or CSV: `name`, `path`, optional `ref`, `team`, `tags`, `url`), each made a
//! [`RepoSpec`] with a distinct name, and the deterministic shard of them a run checks.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// How a repository is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A work tree (its files as they are on disk).
    Checkout,
    /// A bare repository, read from its object database at a ref.
    Mirror,
    /// A path that is neither: checking it gives an error row.
    Unknown,
}

impl SourceKind {
    /// The name the scorecard uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Checkout => "checkout",
            SourceKind::Mirror => "mirror",
            SourceKind::Unknown => "unknown",
        }
    }
}

/// One repository to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// Its name in the scorecard.
    pub name: String,
    /// Its path.
    pub path: PathBuf,
    /// How it is read.
    pub kind: SourceKind,
    /// The ref to read (mirrors); `None` for the default.
    pub rev: Option<String>,
    /// The team it belongs to.
    pub team: Option<String>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Its web URL, for links to findings.
    pub url: Option<String>,
}

/// One manifest entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    name: Option<String>,
    path: String,
    #[serde(default, rename = "ref")]
    rev: Option<String>,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    url: Option<String>,
}

/// A manifest file: a list of entries, or `repositories:` holding one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Manifest {
    List(Vec<ManifestEntry>),
    Doc { repositories: Vec<ManifestEntry> },
}

/// How a path is read: a bare repository (HEAD, objects/ and refs/ and no work tree), a
/// checkout (a `.git` directory or file), or neither.
pub fn kind_of(path: &Path) -> SourceKind {
    if path.join(".git").exists() {
        SourceKind::Checkout
    } else if path.join("HEAD").is_file()
        && path.join("objects").is_dir()
        && path.join("refs").is_dir()
    {
        SourceKind::Mirror
    } else {
        SourceKind::Unknown
    }
}

/// The name of a repository at `path`: its directory name without a `.git` suffix.
pub fn name_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| {
            std::fs::canonicalize(path)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| path.display().to_string());
    name.strip_suffix(".git")
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .unwrap_or(name)
}

/// The repositories a source path stands for: itself when it is a repository (or does not
/// exist: an error row), else each subdirectory that is one, sorted by name.
pub fn expand(path: &Path) -> Vec<RepoSpec> {
    let spec = |p: &Path, kind| RepoSpec {
        name: name_of(p),
        path: p.to_path_buf(),
        kind,
        rev: None,
        team: None,
        tags: Vec::new(),
        url: None,
    };
    let kind = kind_of(path);
    if kind != SourceKind::Unknown || !path.is_dir() {
        return vec![spec(path, kind)];
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    let repos: Vec<RepoSpec> = found
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| {
            let k = kind_of(p);
            (k != SourceKind::Unknown).then(|| spec(p, k))
        })
        .collect();
    if repos.is_empty() {
        // A plain directory with no repository in it is checked as a work tree.
        return vec![spec(path, SourceKind::Checkout)];
    }
    repos
}

/// Reads a manifest (YAML, or CSV when the file name ends in `.csv`); relative paths are
/// relative to the manifest's directory.
pub fn read_manifest(file: &Path) -> Result<Vec<RepoSpec>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read manifest {}: {e}", file.display()))?;
    let entries = if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        parse_csv(&text).map_err(|e| format!("manifest {}: {e}", file.display()))?
    } else {
        let m: Manifest = serde_saphyr::from_str_with_options(&text, crate::load::yaml::options())
            .map_err(|e| format!("manifest {}: {e}", file.display()))?;
        match m {
            Manifest::List(l) | Manifest::Doc { repositories: l } => l,
        }
    };
    let base = file.parent().unwrap_or(Path::new("."));
    Ok(entries
        .into_iter()
        .map(|e| {
            let path = base.join(&e.path);
            RepoSpec {
                name: e
                    .name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| name_of(&path)),
                kind: kind_of(&path),
                path,
                rev: e.rev.filter(|r| !r.is_empty()),
                team: e.team.filter(|t| !t.is_empty()),
                tags: e.tags,
                url: e.url.filter(|u| !u.is_empty()),
            }
        })
        .collect())
}

/// A CSV manifest: a header naming the columns (`name,path,ref,team,tags,url`; `path`
/// required), then one repository per row; `tags` separated by `;` or spaces. Fields may be
/// quoted (`"a, b"`, `""` for a quote).
fn parse_csv(text: &str) -> Result<Vec<ManifestEntry>, String> {
    let mut rows = csv_rows(text)?.into_iter();
    let header: Vec<String> = rows
        .next()
        .ok_or("empty CSV")?
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let path_col = col("path").ok_or("no `path` column")?;
    for h in &header {
        if !["name", "path", "ref", "team", "tags", "url"].contains(&h.as_str()) {
            return Err(format!("unknown column `{h}`"));
        }
    }
    let mut out = Vec::new();
    for (i, row) in rows.enumerate() {
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |c: Option<usize>| {
            c.and_then(|c| row.get(c))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let path = get(Some(path_col)).ok_or(format!("row {}: no path", i + 2))?;
        out.push(ManifestEntry {
            name: get(col("name")),
            path,
            rev: get(col("ref")),
            team: get(col("team")),
            tags: get(col("tags"))
                .map(|t| {
                    t.split([';', ' '])
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            url: get(col("url")),
        });
    }
    Ok(out)
}

/// Splits CSV text into rows of fields (RFC 4180 quoting).
fn csv_rows(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".to_string());
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// A shard of a run: the `index`-th (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1 to `count`.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: a shard is I/N, e.g. 1/4"))?;
        let parse = |x: &str| {
            x.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{s}`: a shard is I/N with whole numbers"))
        };
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("`{s}`: a shard is I/N with 1 ≤ I ≤ N"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the repository called `name` belongs to this shard: by a hash of the name
    /// (FNV-1a, 64 bits), so membership does not depend on the order of the sources.
    pub fn holds(&self, name: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// The stem of a repository's SARIF file, `sarif/<stem>.sarif`: its name with characters
/// other than letters, digits, `.`, `_` and `-` replaced by `_` and `/` by `-`.
pub fn sarif_stem(name: &str) -> String {
    crate::report::sarif::path_id(name)
        .trim_end_matches('/')
        .replace('/', "-")
}

/// Distinct names that would write the same SARIF file, each group as `a, b → stem.sarif`.
pub fn sarif_clashes(specs: &[RepoSpec]) -> Vec<String> {
    let mut by_stem: std::collections::BTreeMap<String, Vec<&str>> =
        std::collections::BTreeMap::new();
    for s in specs {
        by_stem
            .entry(sarif_stem(&s.name))
            .or_default()
            .push(&s.name);
    }
    by_stem
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|(stem, names)| format!("{} → sarif/{stem}.sarif", names.join(", ")))
        .collect()
}

/// The names given to more than one repository.
pub fn duplicate_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::new();
    for name in names {
        *seen.entry(name).or_insert(0) += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_by_name_whatever_the_order() {
        let names: Vec<String> = (0..200).map(|i| format!("svc-{i:04}")).collect();
        let shards: Vec<Shard> = (1..=4).map(|i| Shard { index: i, count: 4 }).collect();
        for n in &names {
            assert_eq!(shards.iter().filter(|s| s.holds(n)).count(), 1, "{n}");
        }
        let sizes: Vec<usize> = shards
            .iter()
            .map(|s| names.iter().filter(|n| s.holds(n)).count())
            .collect();
        assert!(sizes.iter().all(|&k| k > 30), "{sizes:?}");
        assert!(Shard { index: 1, count: 1 }.holds("anything"));
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn manifests_in_yaml_and_csv_give_the_same_specs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let yaml = dir.path().join("fleet.yaml");
        std::fs::write(
            &yaml,
            "repositories:\n  - name: api\n    path: repos/api.git\n    ref: main\n    team: payments\n    tags: [node, tier1]\n    url: https://git.example/api\n  - path: repos/web\n",
        )
        .expect("write");
        let csv = dir.path().join("fleet.csv");
        std::fs::write(
            &csv,
            "name,path,ref,team,tags,url\napi,repos/api.git,main,payments,\"node;tier1\",https://git.example/api\n,repos/web,,,,\n",
        )
        .expect("write");
        let a = read_manifest(&yaml).expect("yaml");
        let b = read_manifest(&csv).expect("csv");
        assert_eq!(a, b);
        assert_eq!(a[0].name, "api");
        assert_eq!(a[0].tags, ["node", "tier1"]);
        assert_eq!(a[1].name, "web");
        assert_eq!(a[1].kind, SourceKind::Unknown);
        std::fs::write(&csv, "name,where\n").expect("write");
        assert!(read_manifest(&csv).is_err());
    }

    #[test]
    fn names_whose_sarif_files_would_clash_are_found() {
        let spec = |name: &str| RepoSpec {
            name: name.to_string(),
            path: PathBuf::from(name),
            kind: SourceKind::Unknown,
            rev: None,
            team: None,
            tags: Vec::new(),
            url: None,
        };
        assert_eq!(sarif_stem("payments/api"), "payments-api");
        assert_eq!(sarif_stem("my api"), "my_api");
        let specs: Vec<RepoSpec> = ["payments/api", "payments-api", "web", "my api", "my_api"]
            .iter()
            .map(|n| spec(n))
            .collect();
        assert_eq!(
            sarif_clashes(&specs),
            [
                "my api, my_api → sarif/my_api.sarif",
                "payments/api, payments-api → sarif/payments-api.sarif"
            ]
        );
        assert!(sarif_clashes(&specs[2..4]).is_empty());
    }

    #[test]
    fn names_drop_the_git_suffix() {
        assert_eq!(name_of(Path::new("/m/svc-1.git")), "svc-1");
        assert_eq!(name_of(Path::new("/c/svc-1")), "svc-1");
        assert_eq!(name_of(Path::new("/c/.git")), ".git");
    }
}
