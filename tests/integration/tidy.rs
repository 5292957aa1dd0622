//! Invariants of the source tree, checked as tests on its text (rust-analyzer's tidy): every rule
//! id of the spec has a test named after it, in one spelling (`pmp3_…`), and every module file
//! says what it is for in a `//!` line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::common::root;

/// The spec whose rule ids need tests.
const SPEC: &str = "docs/spec/billing-rules.md";

/// Where tests are looked for (relative to the root; missing folders are skipped).
const TEST_ROOTS: &[&str] = &["tests", "src", "crates"];

/// Specified, not yet implemented (issue 15): rule ids of the spec that no test names yet.
/// The list only shrinks: an id leaves it with its first test, and `rule_ids_have_tests` fails
/// while a listed id has one (or is no longer in the spec).
const NOT_YET_IMPLEMENTED: &[&str] = &[];

/// Files whose unit tests may still use the old spelling (`mkt_1_…`). Like
/// `NOT_YET_IMPLEMENTED`, the list only shrinks: a prefix that no longer holds such a test fails
/// `rule_tests_use_one_spelling` until it is removed.
const OLD_SPELLING_ALLOWED_IN: &[&str] = &[];

/// Rule ids in `text`: `CONV-4`, `PMP-3`, `EX-2`…; a range `GRP-1…3` gives GRP-1, GRP-2, GRP-3.
fn rule_ids(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut ids = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !chars[i - 1].is_alphanumeric();
        let letters = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_uppercase())
            .count();
        if !starts_word || letters == 0 || chars.get(i + letters) != Some(&'-') {
            i += letters.max(1);
            continue;
        }
        let family: String = chars[i..i + letters].iter().collect();
        let (first, after_first) = number_at(&chars, i + letters + 1);
        let Some(first) = first else {
            i += letters + 1;
            continue;
        };
        let (last, end) = match chars.get(after_first) {
            Some('…') => match number_at(&chars, after_first + 1) {
                (Some(last), end) => (last, end),
                (None, _) => (first, after_first),
            },
            _ => (first, after_first),
        };
        for n in first..=last {
            ids.insert(format!("{family}-{n}"));
        }
        i = end;
    }
    ids
}

/// The decimal number starting at `at`, and the index after it.
fn number_at(chars: &[char], at: usize) -> (Option<u32>, usize) {
    let digits: String = chars[at.min(chars.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (digits.parse().ok(), at + digits.len())
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.expect("readable folder").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The names of the test functions in `source`: a `fn` after `#[test]` (other attributes and
/// comments may come between), also inside `proptest!`.
fn test_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut after_test_attribute = false;
    for line in source.lines().map(str::trim) {
        if line == "#[test]" {
            after_test_attribute = true;
        } else if line.is_empty() || line.starts_with("#[") || line.starts_with("//") {
            continue;
        } else if after_test_attribute {
            after_test_attribute = false;
            let name = line
                .split("fn ")
                .nth(1)
                .map(|rest| rest.split(['(', '<']).next().unwrap_or(""));
            if let Some(name) = name {
                names.push(name.trim().to_string());
            }
        }
    }
    names
}

/// The rule ids a test name starts with: `cbp5_cbp7_first_…` → CBP-5, CBP-7.
fn ids_of_test(name: &str) -> Vec<String> {
    name.split('_')
        .map_while(|part| {
            let letters = part.chars().take_while(|c| c.is_ascii_lowercase()).count();
            let (family, number) = part.split_at(letters);
            let is_id = letters > 0
                && !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
                && !number.starts_with('0');
            is_id.then(|| format!("{}-{number}", family.to_ascii_uppercase()))
        })
        .collect()
}

/// Every test function under the test roots: (file relative to the root, name).
fn all_tests() -> Vec<(String, String)> {
    let root = root();
    let mut out = Vec::new();
    for dir in TEST_ROOTS {
        for file in rust_files(&root.join(dir)) {
            let source = std::fs::read_to_string(&file).expect("readable source");
            let relative = file.strip_prefix(&root).unwrap().display().to_string();
            for name in test_names(&source) {
                out.push((relative.clone(), name));
            }
        }
    }
    out
}

fn spec_ids() -> BTreeSet<String> {
    let spec = std::fs::read_to_string(root().join(SPEC)).expect("the spec is in the repository");
    let ids = rule_ids(&spec);
    assert!(ids.len() > 40, "{SPEC}: only {ids:?}");
    ids
}

#[test]
fn rule_ids_have_tests() {
    let spec = spec_ids();
    let mut tested: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (file, name) in all_tests() {
        for id in ids_of_test(&name) {
            tested
                .entry(id)
                .or_default()
                .push(format!("{file}: {name}"));
        }
    }
    let listed: BTreeSet<String> = NOT_YET_IMPLEMENTED.iter().map(|s| s.to_string()).collect();
    let mut problems = Vec::new();
    for id in &spec {
        let tests = tested.get(id);
        match (tests, listed.contains(id)) {
            (None, false) => problems.push(format!(
                "{id} has no test: name one `{}_…`, or list the id in NOT_YET_IMPLEMENTED",
                id.replace('-', "").to_ascii_lowercase()
            )),
            (Some(tests), true) => problems.push(format!(
                "{id} is tested now ({}): remove it from NOT_YET_IMPLEMENTED",
                tests.join("; ")
            )),
            _ => {}
        }
    }
    for id in listed.difference(&spec) {
        problems.push(format!("{id} is in NOT_YET_IMPLEMENTED but not in {SPEC}"));
    }
    // A name that looks like a rule of a family the spec has (`pmp8_…`) but is not one.
    let families: BTreeSet<&str> = spec.iter().filter_map(|id| id.split('-').next()).collect();
    for (id, tests) in &tested {
        let family = id.split('-').next().unwrap_or("");
        if families.contains(family) && !spec.contains(id) {
            problems.push(format!(
                "{id} is not a rule of {SPEC}: {}",
                tests.join("; ")
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn rule_tests_use_one_spelling() {
    let spec = spec_ids();
    let mut problems = Vec::new();
    let mut allowed_used = BTreeSet::new();
    for (file, name) in all_tests() {
        // `pmp_4_…`: the id's letters and number as two words.
        let mut parts = name.split('_');
        let (Some(family), Some(number)) = (parts.next(), parts.next()) else {
            continue;
        };
        let id = format!("{}-{number}", family.to_ascii_uppercase());
        if !spec.contains(&id) {
            continue;
        }
        match OLD_SPELLING_ALLOWED_IN
            .iter()
            .find(|p| file.starts_with(*p))
        {
            Some(prefix) => {
                allowed_used.insert(*prefix);
            }
            None => problems.push(format!("{file}: `{name}`: spell it `{family}{number}_…`")),
        }
    }
    for prefix in OLD_SPELLING_ALLOWED_IN {
        if !allowed_used.contains(prefix) {
            problems.push(format!(
                "{prefix} has no `pmp_4_…` test left: remove it from OLD_SPELLING_ALLOWED_IN"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_module_file_starts_with_a_doc_line() {
    let root = root();
    let mut dirs = vec![root.join("src"), root.join("tests")];
    if let Ok(crates) = std::fs::read_dir(root.join("crates")) {
        for krate in crates {
            dirs.push(krate.expect("readable folder").path().join("src"));
        }
    }
    let mut missing = Vec::new();
    let mut files = 0;
    for dir in &dirs {
        for file in rust_files(dir) {
            files += 1;
            let source = std::fs::read_to_string(&file).expect("readable source");
            if !source.starts_with("//!") {
                missing.push(file.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    assert!(files > 50, "only {files} files found under {dirs:?}");
    assert!(
        missing.is_empty(),
        "these files do not start with a `//!` line saying what they are for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_scanners_read_ids_and_test_names() {
    assert_eq!(
        rule_ids("CBP-3, PMP-10; GRP-1…3 (CALL-1…2) ISO 3166 alpha-2 UTF-8 xPMP-4 PMP-"),
        ["CALL-1", "CALL-2", "CBP-3", "GRP-1", "GRP-2", "GRP-3", "PMP-10", "UTF-8"]
            .map(String::from)
            .into()
    );
    let source = "#[test]\n/// doc\n#[ignore]\nfn pmp3_a() {}\nfn ex2_log() {}\n    #[test]\n    fn cbp5_cbp7_b(x in y) {}\n";
    assert_eq!(test_names(source), ["pmp3_a", "cbp5_cbp7_b"]);
    assert_eq!(ids_of_test("cbp5_cbp7_b"), ["CBP-5", "CBP-7"]);
    assert_eq!(ids_of_test("ex2_cbp_service"), ["EX-2"]);
    assert!(ids_of_test("pmp_4_tiers").is_empty());
    assert!(ids_of_test("delivered_failed").is_empty());
}

/// The layers of `src/` (its top-level modules) import each other without a circle: the edges
/// are the `crate::<module>` paths each layer's files name. Today: cmd → replay → io → traffic →
/// billing, report → replay. A new edge that closes a circle fails here.
#[test]
fn src_layers_form_a_dag() {
    let src = root().join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in rust_files(&src) {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let layer = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name != layer && !name.is_empty() {
                edges.entry(layer.clone()).or_default().insert(name);
            }
        }
    }
    // Depth-first search for a circle.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == n) {
            panic!(
                "import circle between layers: {} → {n}",
                path[at..].join(" → ")
            );
        }
        if done.contains(n) {
            return;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, path, done);
        }
        path.pop();
        done.insert(n.to_string());
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        visit(n, &edges, &mut Vec::new(), &mut done);
    }
    assert!(
        edges.contains_key("cmd"),
        "the scan found the layers: {edges:?}"
    );
}
