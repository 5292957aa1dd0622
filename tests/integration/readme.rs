//! The README agrees with the program: every example block that shows a command (`$ …`) is run
//! with the real binary, and each of its lines that is not an elision (`…`) must appear, in
//! order, in what the command prints (stderr, then stdout); the JSON block must be contained in
//! the real JSON; the error messages the README quotes must be the real ones. The same outputs
//! are pinned whole in `golden.rs`.

use serde_json::Value;

use super::common::{root, stderr, wabill};
use super::golden::{
    CHARGES, CHARGES_AI, CHARGES_CURRENCY, COMPARE_AGENT, COMPARE_FCR, COMPARE_LOG, COMPARE_STORE,
    ESTIMATE, EXPLAIN, EXPLAIN_ROW, REPLAY_JSON, REPLAY_PROVIDER, REPLAY_TABLE, REPLAY_TWILIO,
};

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The fenced code blocks of `text`: (info string, lines).
fn code_blocks(text: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_string(), Vec::new())),
            (Some(_), Some(_)) => blocks.extend(open.take()),
            (Some((_, lines)), None) => lines.push(line.to_string()),
            (None, None) => {}
        }
    }
    blocks
}

/// Words of a command line as a shell splits them (spaces; double quotes group).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// An example block: the wabill arguments of its `$` command (continued over lines ending in
/// `\`), and the lines it shows after the command.
struct Example {
    args: Vec<String>,
    shown: Vec<String>,
}

fn examples(text: &str) -> Vec<Example> {
    let mut out = Vec::new();
    for (_, lines) in code_blocks(text) {
        let Some(first) = lines.first().and_then(|l| l.strip_prefix("$ ")) else {
            continue;
        };
        let mut command = String::new();
        let mut rest = lines[1..].iter();
        let mut line = first;
        while let Some(continued) = line.strip_suffix('\\') {
            command.push_str(continued);
            line = rest.next().expect("a continued command line");
        }
        command.push_str(line);
        let words = shell_words(&command);
        let args = match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["cargo", "run", "--release", "--", ..] => words[4..].to_vec(),
            ["wabill", ..] => words[1..].to_vec(),
            _ => panic!("README example `{command}` does not run wabill"),
        };
        out.push(Example {
            args,
            shown: rest.cloned().collect(),
        });
    }
    out
}

/// The first line of `shown` (blank lines and elisions skipped) that is not in `real` in order.
fn first_missing<'a>(shown: &'a [String], real: &[&str]) -> Option<&'a str> {
    let mut at = 0;
    for line in shown.iter().map(|l| l.trim_end()) {
        if line.is_empty() || line.trim() == "…" {
            continue;
        }
        match real[at..].iter().position(|r| r.trim_end() == line) {
            Some(i) => at += i + 1,
            None => return Some(line),
        }
    }
    None
}

#[test]
fn readme_example_blocks_appear_in_the_real_output() {
    let examples = examples(&readme());
    let pinned = [
        REPLAY_TABLE,
        COMPARE_STORE,
        REPLAY_TWILIO,
        CHARGES,
        CHARGES_CURRENCY,
        CHARGES_AI,
        COMPARE_AGENT,
        COMPARE_FCR,
        COMPARE_LOG,
        ESTIMATE,
        REPLAY_PROVIDER,
        EXPLAIN,
        EXPLAIN_ROW,
    ];
    let found: Vec<Vec<&str>> = examples
        .iter()
        .map(|e| e.args.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        found,
        pinned.map(|a| a.to_vec()),
        "the README's example commands, in order; a new one needs its snapshot in golden.rs"
    );
    for example in &examples {
        let args: Vec<&str> = example.args.iter().map(String::as_str).collect();
        let output = wabill(&args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let printed = format!(
            "{}{}",
            stderr(&output),
            String::from_utf8_lossy(&output.stdout)
        );
        let real: Vec<&str> = printed.lines().collect();
        if let Some(line) = first_missing(&example.shown, &real) {
            panic!(
                "README example `wabill {}` shows a line the program does not print (in that \
                 order):\n{line}\n--- the program prints:\n{printed}",
                args.join(" ")
            );
        }
    }
}

/// Whether `real` contains `shown`: objects by key (a subset), arrays as a subsequence (the
/// README elides elements), the string `…` stands for any value.
fn contains(real: &Value, shown: &Value) -> bool {
    match (real, shown) {
        (_, Value::String(s)) if s == "…" => true,
        (Value::Object(r), Value::Object(s)) => s
            .iter()
            .all(|(k, v)| r.get(k).is_some_and(|rv| contains(rv, v))),
        (Value::Array(r), Value::Array(s)) => {
            let mut rest = r.iter();
            s.iter().all(|v| rest.any(|rv| contains(rv, v)))
        }
        _ => real == shown,
    }
}

#[test]
fn readme_json_contract_is_contained_in_the_real_json() {
    let blocks = code_blocks(&readme());
    let json: Vec<&Vec<String>> = blocks
        .iter()
        .filter(|(info, _)| info == "json")
        .map(|(_, lines)| lines)
        .collect();
    assert_eq!(json.len(), 1, "one JSON example in the README");
    let shown: Value = serde_json::from_str(&json[0].join("\n")).expect("the README's JSON parses");
    let output = wabill(REPLAY_JSON);
    let real: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert!(
        contains(&real, &shown),
        "the README's JSON is not in the output of `wabill {}`:\n{shown:#}",
        REPLAY_JSON.join(" ")
    );
}

#[test]
fn readme_quotes_the_real_error_messages() {
    let text = readme().split_whitespace().collect::<Vec<_>>().join(" ");
    let quoted: [(&[&str], &str); 3] = [
        (
            &["replay", "tests/fixtures/errors/saudi-utility.csv"],
            "no rate for market `Saudi Arabia`, category `utility` on 2025-07-03 (rate card of \
             2025-07-01; 1 message(s) affected) (RATE-4)",
        ),
        (
            &[
                "compare",
                "data/scenarios/support.toml",
                "--vary",
                "support.fcr=0.6,1.5",
            ],
            "scenario: `support.fcr` = 1.5: a probability or share must be between 0 and 1",
        ),
        (
            &[
                "replay",
                "tests/fixtures/charges/mixed.csv",
                "--accounts",
                "tests/fixtures/charges/accounts-mixed.toml",
                "--rates",
                "tests/fixtures/charges/rates",
            ],
            "accounts: the WABAs are billed in several currencies (xts (XTS), mx (MXN)); a replay \
             bills one currency at a time (CONV-6): choose one with --currency CODE (CUR-1)",
        ),
    ];
    for (args, message) in quoted {
        assert!(
            text.contains(message),
            "the README no longer quotes: {message}"
        );
        let output = wabill(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn the_readme_parsers_read_blocks_and_commands() {
    let text = "x\n```sh\n$ wabill a \"b c\" \\\n    d\nout 1\n…\nout 2\n```\n```json\n{}\n```\n";
    let blocks = code_blocks(text);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[1], ("json".to_string(), vec!["{}".to_string()]));
    let ex = examples(text);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].args, ["a", "b c", "d"]);
    assert_eq!(ex[0].shown, ["out 1", "…", "out 2"]);
    assert_eq!(first_missing(&ex[0].shown, &["out 1", "x", "out 2"]), None);
    assert_eq!(
        first_missing(&ex[0].shown, &["out 2", "out 1"]),
        Some("out 2")
    );
    let real: Value = serde_json::from_str(r#"{"a": [1, 2, 3], "b": "x", "c": 1}"#).unwrap();
    let shown: Value = serde_json::from_str(r#"{"a": [1, 3], "b": "…"}"#).unwrap();
    assert!(contains(&real, &shown));
    let shown: Value = serde_json::from_str(r#"{"a": [3, 1]}"#).unwrap();
    assert!(!contains(&real, &shown));
}
