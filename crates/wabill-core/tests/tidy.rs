//! Architecture invariants of the core, as tests: the core depends on no I/O, format or UI crate,
//! and every module says what it is for.
//!
//! The dependency tree is computed from the workspace's Cargo.lock, which fixes the packages and
//! versions, starting from the `[dependencies]` and `[build-dependencies]` of the core's
//! manifest (the core's entry in Cargo.lock lists its dev-dependencies too). Cargo.lock also
//! lists every *optional* dependency a package could pull in (`rust_decimal` → `serde_json`),
//! whether a feature turns it on or not, so each package's published manifest (in Cargo's
//! registry cache) says which of its dependencies the requested features activate; a package
//! whose manifest is not found keeps every edge of the lock file (never fewer crates than the
//! real tree).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// Crates the core must never depend on, directly or not: I/O, formats, UI, test scaffolding.
const FORBIDDEN: [&str; 9] = [
    "polars",
    "csv",
    "serde_json",
    "toml",
    "clap",
    "plotters",
    "indicatif",
    "tempfile",
    "anyhow",
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

// ------------------------------------------------------------------------------------------------
// Cargo.lock

/// One `[[package]]` of Cargo.lock: its dependencies as written (`name`, `name version` or
/// `name version (source)`).
#[derive(Debug, Default, Clone)]
struct Locked {
    name: String,
    version: String,
    deps: Vec<String>,
}

impl Locked {
    fn key(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

/// Cargo.lock's packages by name (several versions of one crate can be locked).
type Lock = BTreeMap<String, Vec<Locked>>;

fn parse_lock(text: &str) -> Lock {
    let mut out = Lock::new();
    let mut current: Option<Locked> = None;
    let mut in_deps = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            if let Some(p) = current.take() {
                out.entry(p.name.clone()).or_default().push(p);
            }
            current = (line == "[[package]]").then(Locked::default);
            in_deps = false;
            continue;
        }
        let Some(p) = current.as_mut() else { continue };
        if in_deps {
            if line.starts_with(']') {
                in_deps = false;
            } else {
                p.deps
                    .push(line.trim_end_matches(',').trim_matches('"').to_string());
            }
        } else if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"').to_string();
            match k.trim() {
                "name" => p.name = v,
                "version" => p.version = v,
                // `dependencies = [` then one per line, or `dependencies = []`.
                "dependencies" => in_deps = v != "[]",
                _ => {}
            }
        }
    }
    if let Some(p) = current {
        out.entry(p.name.clone()).or_default().push(p);
    }
    out
}

// ------------------------------------------------------------------------------------------------
// Manifests (the subset of TOML that Cargo.toml files use)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DepKind {
    Normal,
    Build,
    Dev,
}

/// One dependency of a manifest.
#[derive(Debug, Clone)]
struct Dep {
    /// The name the manifest gives it (features and `dep:` use this one).
    key: String,
    /// The package's name (differs when renamed with `package = …`).
    package: String,
    version: String,
    kind: DepKind,
    optional: bool,
    default_features: bool,
    features: Vec<String>,
}

#[derive(Debug, Default, Clone)]
struct Manifest {
    features: BTreeMap<String, Vec<String>>,
    deps: Vec<Dep>,
}

/// A TOML value as these manifests write them.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
    List(Vec<String>),
    Table(BTreeMap<String, Value>),
    Other,
}

/// Split `s` at top-level occurrences of `sep` (outside quotes, brackets and braces).
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let mut out = Vec::new();
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, c) if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').trim_matches('\'').to_string()
}

fn parse_value(s: &str) -> Value {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return Value::List(
            split_top(inner, ',')
                .into_iter()
                .map(unquote)
                .filter(|x| !x.is_empty())
                .collect(),
        );
    }
    if let Some(inner) = s.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
        let mut t = BTreeMap::new();
        for kv in split_top(inner, ',') {
            if let Some((k, v)) = kv.split_once('=') {
                t.insert(unquote(k), parse_value(v));
            }
        }
        return Value::Table(t);
    }
    match s {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ if s.starts_with('"') || s.starts_with('\'') => Value::Str(unquote(s)),
        _ => Value::Other,
    }
}

/// Whether the brackets of a (possibly multi-line) value are closed, outside strings.
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quote = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            _ => {}
        }
    }
    depth <= 0
}

/// The dependency table a section header names: its kind and, for `[dependencies.foo]`, `foo`.
fn dep_section(header: &str) -> Option<(DepKind, Option<String>)> {
    let parts: Vec<String> = split_top(header, '.').into_iter().map(unquote).collect();
    let parts = match parts.first().map(String::as_str) {
        Some("target") if parts.len() >= 3 => &parts[2..],
        _ => &parts[..],
    };
    let kind = match parts.first().map(String::as_str)? {
        "dependencies" => DepKind::Normal,
        "build-dependencies" | "build_dependencies" => DepKind::Build,
        "dev-dependencies" | "dev_dependencies" => DepKind::Dev,
        _ => return None,
    };
    Some((kind, parts.get(1).cloned()))
}

fn dep_from(key: &str, kind: DepKind, v: &Value) -> Dep {
    let mut d = Dep {
        key: key.to_string(),
        package: key.to_string(),
        version: String::new(),
        kind,
        optional: false,
        default_features: true,
        features: Vec::new(),
    };
    match v {
        Value::Str(s) => d.version = s.clone(),
        Value::Table(t) => {
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("version", Value::Str(s)) => d.version = s.clone(),
                    ("package", Value::Str(s)) => d.package = s.clone(),
                    ("optional", Value::Bool(b)) => d.optional = *b,
                    ("default-features" | "default_features", Value::Bool(b)) => {
                        d.default_features = *b
                    }
                    ("features", Value::List(l)) => d.features = l.clone(),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    d
}

fn parse_manifest(text: &str) -> Manifest {
    let mut m = Manifest::default();
    // The current section, and the fields of a `[dependencies.foo]` table being read.
    let mut section = String::new();
    let mut table: Option<(DepKind, String, BTreeMap<String, Value>)> = None;
    let mut pending = String::new();
    let flush = |m: &mut Manifest,
                 table: &mut Option<(DepKind, String, BTreeMap<String, Value>)>| {
        if let Some((kind, key, t)) = table.take() {
            m.deps.push(dep_from(&key, kind, &Value::Table(t)));
        }
    };
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if pending.is_empty() && line.starts_with('[') && !line.starts_with("[[") {
            flush(&mut m, &mut table);
            section = line.trim_matches(|c| c == '[' || c == ']').to_string();
            if let Some((kind, Some(key))) = dep_section(&section) {
                table = Some((kind, key, BTreeMap::new()));
            }
            continue;
        }
        if pending.is_empty() && line.starts_with("[[") {
            flush(&mut m, &mut table);
            section.clear();
            continue;
        }
        pending.push_str(line);
        pending.push(' ');
        if !balanced(&pending) {
            continue;
        }
        let entry = std::mem::take(&mut pending);
        let Some((k, v)) = entry.split_once('=') else {
            continue;
        };
        let (k, v) = (unquote(k), parse_value(v));
        if let Some((_, _, t)) = table.as_mut() {
            t.insert(k, v);
        } else if section == "features" {
            if let Value::List(l) = v {
                m.features.insert(k, l);
            }
        } else if let Some((kind, None)) = dep_section(&section) {
            m.deps.push(dep_from(&k, kind, &v));
        }
    }
    flush(&mut m, &mut table);
    m
}

// ------------------------------------------------------------------------------------------------
// The tree: Cargo.lock's packages, the edges the features activate

/// Whether a locked version meets a manifest's requirement (`"1.4"`, `"^0.9"`, `"=2.0.1"`):
/// same major, or same minor below 1.0 — how Cargo's default requirements read.
fn meets(version: &str, req: &str) -> bool {
    let req = req.split(',').next().unwrap_or("").trim();
    let req = req.trim_start_matches(['^', '=', '~', ' ']);
    let v: Vec<&str> = version.split(['.', '-', '+']).collect();
    let r: Vec<&str> = req.split('.').collect();
    match r.first() {
        None | Some(&"") | Some(&"*") => true,
        Some(&"0") => v.first() == Some(&"0") && (r.len() < 2 || v.get(1) == r.get(1)),
        Some(major) => v.first() == Some(major),
    }
}

enum Task {
    Visit(String),
    Feature(String, String),
    Dep(String, String),
    /// `dep/feature` (`weak`: `dep?/feature`, which does not turn the dependency on).
    DepFeature(String, String, String, bool),
}

/// The crates the core's users build, keyed `name version`, each with a path from the core.
/// `manifest_of(name, version)` gives a package's manifest, if known.
fn resolve(
    lock: &Lock,
    root: &Manifest,
    manifest_of: &dyn Fn(&str, &str) -> Option<Manifest>,
) -> BTreeMap<String, Vec<String>> {
    let core = lock
        .get("wabill-core")
        .and_then(|v| v.first())
        .expect("wabill-core in Cargo.lock")
        .clone();
    let mut packages: BTreeMap<String, (Locked, Option<Manifest>)> = BTreeMap::new();
    packages.insert(core.key(), (core.clone(), Some(root.clone())));
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    paths.insert(core.key(), vec!["wabill-core".into()]);
    let mut features: BTreeSet<(String, String)> = BTreeSet::new();
    // Activated dependencies: (package, dep key) → the dependency's package.
    let mut active: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut weak: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut tasks = VecDeque::from([
        Task::Visit(core.key()),
        Task::Feature(core.key(), "default".into()),
    ]);

    // The locked package a dependency of `from` resolves to.
    let locked_dep = |from: &Locked, d: &Dep| -> Vec<Locked> {
        let candidates: Vec<&Locked> = from
            .deps
            .iter()
            .filter(|x| x.split(' ').next() == Some(d.package.as_str()))
            .filter_map(|x| {
                let mut it = x.split(' ');
                let (name, version) = (it.next()?, it.next());
                lock.get(name)?
                    .iter()
                    .find(|p| version.is_none_or(|v| p.version == v))
            })
            .collect();
        let fitting: Vec<Locked> = candidates
            .iter()
            .filter(|p| meets(&p.version, &d.version))
            .map(|p| (*p).clone())
            .collect();
        if fitting.is_empty() {
            candidates.into_iter().cloned().collect()
        } else {
            fitting
        }
    };

    while let Some(task) = tasks.pop_front() {
        match task {
            Task::Visit(pk) => {
                let (locked, manifest) = packages[&pk].clone();
                match manifest {
                    Some(m) => {
                        for d in m
                            .deps
                            .iter()
                            .filter(|d| !d.optional && d.kind != DepKind::Dev)
                        {
                            tasks.push_back(Task::Dep(pk.clone(), d.key.clone()));
                        }
                    }
                    // No manifest: every edge of the lock file, conservatively.
                    None => {
                        for dep in &locked.deps {
                            let mut it = dep.split(' ');
                            let name = it.next().unwrap_or(dep);
                            let version = it.next();
                            if let Some(p) = lock.get(name).and_then(|v| {
                                v.iter().find(|p| version.is_none_or(|x| p.version == x))
                            }) {
                                let key = p.key();
                                if !packages.contains_key(&key) {
                                    let m = manifest_of(&p.name, &p.version);
                                    packages.insert(key.clone(), (p.clone(), m));
                                    let mut path = paths[&pk].clone();
                                    path.push(key.clone());
                                    paths.insert(key.clone(), path);
                                    tasks.push_back(Task::Visit(key.clone()));
                                    tasks.push_back(Task::Feature(key, "default".into()));
                                }
                            }
                        }
                    }
                }
            }
            Task::Feature(pk, f) => {
                if !features.insert((pk.clone(), f.clone())) {
                    continue;
                }
                let Some(m) = packages[&pk].1.clone() else {
                    continue;
                };
                match m.features.get(&f) {
                    Some(items) => {
                        for item in items {
                            if let Some(dep) = item.strip_prefix("dep:") {
                                tasks.push_back(Task::Dep(pk.clone(), dep.into()));
                            } else if let Some((dep, feat)) = item.split_once('/') {
                                let (dep, is_weak) = match dep.strip_suffix('?') {
                                    Some(d) => (d, true),
                                    None => (dep, false),
                                };
                                tasks.push_back(Task::DepFeature(
                                    pk.clone(),
                                    dep.into(),
                                    feat.into(),
                                    is_weak,
                                ));
                            } else {
                                tasks.push_back(Task::Feature(pk.clone(), item.clone()));
                            }
                        }
                    }
                    // An optional dependency's implicit feature.
                    None if m.deps.iter().any(|d| d.optional && d.key == f) => {
                        tasks.push_back(Task::Dep(pk.clone(), f));
                    }
                    None => {}
                }
            }
            Task::Dep(pk, key) => {
                if active.contains_key(&(pk.clone(), key.clone())) {
                    continue;
                }
                let (locked, manifest) = packages[&pk].clone();
                let Some(m) = manifest else { continue };
                let mut targets = Vec::new();
                for d in m
                    .deps
                    .iter()
                    .filter(|d| d.key == key && d.kind != DepKind::Dev)
                {
                    for p in locked_dep(&locked, d) {
                        let pkey = p.key();
                        if !packages.contains_key(&pkey) {
                            let pm = manifest_of(&p.name, &p.version);
                            packages.insert(pkey.clone(), (p.clone(), pm));
                            let mut path = paths[&pk].clone();
                            path.push(pkey.clone());
                            paths.insert(pkey.clone(), path);
                            tasks.push_back(Task::Visit(pkey.clone()));
                        }
                        if d.default_features {
                            tasks.push_back(Task::Feature(pkey.clone(), "default".into()));
                        }
                        for f in &d.features {
                            tasks.push_back(Task::Feature(pkey.clone(), f.clone()));
                        }
                        targets.push(pkey);
                    }
                }
                for f in weak.remove(&(pk.clone(), key.clone())).unwrap_or_default() {
                    for t in &targets {
                        tasks.push_back(Task::Feature(t.clone(), f.clone()));
                    }
                }
                active.insert((pk, key), targets);
            }
            Task::DepFeature(pk, key, f, is_weak) => match active.get(&(pk.clone(), key.clone())) {
                Some(targets) => {
                    for t in targets {
                        tasks.push_back(Task::Feature(t.clone(), f.clone()));
                    }
                }
                None => {
                    weak.entry((pk.clone(), key.clone())).or_default().push(f);
                    if !is_weak {
                        tasks.push_back(Task::Dep(pk, key));
                    }
                }
            },
        }
    }
    paths.remove(&core.key());
    paths
}

/// A registry package's manifest from Cargo's cache (`$CARGO_HOME/registry/src/*/name-version`).
fn registry_manifest(name: &str, version: &str) -> Option<Manifest> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    for index in std::fs::read_dir(home.join("registry/src")).ok()?.flatten() {
        let p = index.path().join(format!("{name}-{version}/Cargo.toml"));
        if let Ok(text) = std::fs::read_to_string(&p) {
            return Some(parse_manifest(&text));
        }
    }
    None
}

fn core_tree() -> BTreeMap<String, Vec<String>> {
    let lock = parse_lock(&read(&crate_dir().join("../../Cargo.lock")));
    let root = parse_manifest(&read(&crate_dir().join("Cargo.toml")));
    resolve(&lock, &root, &registry_manifest)
}

fn name_of(key: &str) -> &str {
    key.split(' ').next().unwrap_or(key)
}

#[test]
fn the_core_depends_on_no_io_format_or_ui_crate() {
    let tree = core_tree();
    for expected in ["chrono", "rayon", "phonenumber", "rust_decimal"] {
        assert!(
            tree.keys().any(|k| name_of(k) == expected),
            "the walk of Cargo.lock found no `{expected}`: the parser is broken ({:?})",
            tree.keys().collect::<Vec<_>>()
        );
    }
    let bad: Vec<String> = tree
        .iter()
        .filter(|(k, _)| FORBIDDEN.contains(&name_of(k)))
        .map(|(_, path)| path.join(" → "))
        .collect();
    assert!(
        bad.is_empty(),
        "the core must not depend on I/O, format or UI crates; found:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_walk_follows_features_and_skips_dev_and_inactive_optional_dependencies() {
    let lock = parse_lock(
        r#"
[[package]]
name = "wabill-core"
version = "0.1.0"
dependencies = [
 "a",
 "devonly",
]

[[package]]
name = "a"
version = "1.0.0"
dependencies = [
 "b 2.0.0",
 "c",
 "toml",
 "weakly",
]

[[package]]
name = "b"
version = "1.0.0"

[[package]]
name = "b"
version = "2.0.0"
dependencies = [
 "csv",
]

[[package]]
name = "c"
version = "1.0.0"

[[package]]
name = "csv"
version = "1.0.0"

[[package]]
name = "devonly"
version = "1.0.0"
dependencies = []

[[package]]
name = "toml"
version = "1.0.0"

[[package]]
name = "weakly"
version = "1.0.0"
"#,
    );
    assert_eq!(lock["b"].len(), 2);
    assert_eq!(lock["a"][0].deps, ["b 2.0.0", "c", "toml", "weakly"]);
    let root = parse_manifest(
        "[package]\nname = \"wabill-core\"\n\n[dependencies]\na = { version = \"1\", default-features = false, features = [\"with-c\"] }\n\n[dev-dependencies]\ndevonly = \"1\"\n",
    );
    let a = parse_manifest(
        r#"
[features]
default = ["toml"]
with-c = [
    "dep:c",
    "weakly?/std",
    "renamed/extra",
]

[dependencies.c]
version = "1"
optional = true

[dependencies.renamed]
version = "2.0"
package = "b"

[dependencies.toml]
version = "1"
optional = true

[target.'cfg(windows)'.dependencies.weakly]
version = "1"
optional = true
"#,
    );
    assert_eq!(a.deps.len(), 4);
    assert_eq!(
        a.features["with-c"],
        ["dep:c", "weakly?/std", "renamed/extra"]
    );
    let b = parse_manifest("[features]\nextra = [\"csv\"]\n[dependencies]\ncsv = { version = \"1\", optional = true }\n");
    let manifests = move |name: &str, _: &str| match name {
        "a" => Some(a.clone()),
        "b" => Some(b.clone()),
        "c" | "csv" => Some(Manifest::default()),
        _ => None,
    };
    let tree = resolve(&lock, &root, &manifests);
    assert_eq!(
        tree.keys().cloned().collect::<Vec<_>>(),
        ["a 1.0.0", "b 2.0.0", "c 1.0.0", "csv 1.0.0"],
        "not devonly (dev), not toml (default features off), not weakly (weak)"
    );
    assert_eq!(
        tree["csv 1.0.0"],
        ["wabill-core", "a 1.0.0", "b 2.0.0", "csv 1.0.0"]
    );
    assert!(meets("0.9.5", "0.9") && !meets("0.8.8", "0.9") && meets("1.4.2", "^1.2"));
}

// ------------------------------------------------------------------------------------------------
// Module docs

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("source folder") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_module_of_the_core_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    rust_files(&crate_dir().join("tests"), &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    let missing: Vec<String> = files
        .iter()
        .filter(|p| !read(p).starts_with("//!"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` first line:\n{}",
        missing.join("\n")
    );
}
