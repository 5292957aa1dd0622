//! Input and output at the edges: message logs (`log`, one reader per format), the accounts,
//! volumes, scenario and market-map files, the rates directory and Meta's rate-card layout,
//! Meta's webhooks and analytics responses, generated logs, Parquet, atomic writers and the guard
//! that keeps outputs off inputs (`output`), what an interruption removes (`cleanup`), and how
//! text from the inputs leaves (`text`: formula-safe CSV, terminal-safe messages). The billing
//! core never calls into here.

pub mod accounts_file;
pub mod analytics;
pub mod cleanup;
pub mod generated;
pub mod log;
pub mod market_map;
pub mod meta_layout;
pub mod output;
pub mod parquet;
pub mod rates_dir;
pub mod scenario_file;
pub mod templates;
pub mod text;
pub mod volumes_file;
pub mod webhooks;

#[cfg(test)]
mod tests {
    /// The library reads no environment variable (the binary, `src/cmd`, does and passes the
    /// values down): no file under `src/io` calls `std::env`'s `var` or `var_os`.
    #[test]
    fn no_environment_reads() {
        fn check(dir: &std::path::Path) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    check(&path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let env_read = ["env", "::var"].concat();
                    assert!(
                        !text.contains(&env_read),
                        "{} reads the environment",
                        path.display()
                    );
                }
            }
        }
        check(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/io"));
    }
}
