//! The CSV and JSON Lines writers: columns and values, progress, and stopping on a write error.

use super::*;

#[test]
fn csv_and_jsonl_columns() {
    let s = scenario(SAMPLE);
    let (rows, g) = generate_vec(&s, 3);
    let csv = String::from_utf8(write_csv(&g.population, &rows, Vec::new()).unwrap()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "timestamp,direction,user,type,category,status,entry_point,waba,number,country,id"
    );
    let mut ids = std::collections::HashSet::new();
    let (mut seen_ctwa, mut seen_page, mut cats) =
        (false, false, std::collections::BTreeSet::new());
    for (line, r) in lines.zip(&rows) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 11, "{line}");
        assert_eq!(f[0], format_timestamp(r.ts));
        assert!(f[0].len() == 20 && f[0].ends_with('Z'));
        assert!(f[1] == "in" || f[1] == "out");
        assert!(f[2].starts_with('+') && f[2][1..].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(f[7], "default");
        assert!(f[8].starts_with('+'));
        assert!(ids.insert(f[10].to_string()) && f[10].starts_with("wamid."));
        seen_ctwa |= f[6] == "ctwa";
        seen_page |= f[6] == "page_cta";
        if !f[4].is_empty() {
            cats.insert(f[4].to_string());
        }
        assert!(!["SA", "CO", "EG", "AE"].contains(&f[9]));
    }
    assert!(seen_ctwa && seen_page);
    assert_eq!(
        cats.into_iter().collect::<Vec<_>>(),
        ["authentication", "marketing", "utility"]
    );
    assert!(
        (2000..10_000).contains(&rows.len()),
        "sample has {} rows",
        rows.len()
    );

    let jsonl = String::from_utf8(write_jsonl(&g.population, &rows, Vec::new()).unwrap()).unwrap();
    let first = jsonl.lines().next().unwrap();
    for col in COLUMNS {
        assert!(first.contains(&format!("\"{col}\":")), "{first}");
    }
    assert!(
        first.starts_with("{\"timestamp\":\"2025-04-30T") && first.ends_with("\"id\":\"wamid.1\"}")
    );
    let inbound = jsonl
        .lines()
        .find(|l| l.contains("\"direction\":\"in\""))
        .unwrap();
    assert!(
        inbound.contains("\"status\":null") && inbound.contains("\"category\":null"),
        "{inbound}"
    );
    assert_eq!(jsonl.lines().count(), rows.len());
}

#[test]
fn progress_and_early_stop() {
    let s = scenario(SAMPLE);
    let mut last = Progress {
        rows: 0,
        fraction: 0.0,
    };
    let mut calls = 0;
    let (g, _) = generate_to(&s, 1, Format::Csv, std::io::sink(), &mut |p| {
        assert!(p.rows >= last.rows && p.fraction >= last.fraction);
        last = p;
        calls += 1;
    })
    .unwrap();
    assert!(calls > 10);
    assert_eq!(last.rows, g.summary.rows);
    assert_eq!(last.fraction, 1.0);

    struct Failing(usize);
    impl std::io::Write for Failing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.0 < b.len() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "closed",
                ));
            }
            self.0 -= b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let e = generate_to(&s, 1, Format::Csv, Failing(10), &mut |_| {})
        .err()
        .unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
}
