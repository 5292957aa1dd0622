//! Scenario files from disk: read, then parsed and checked by `traffic::parse_scenario`; errors
//! name the file.

use std::path::Path;

use anyhow::{Context, Result};

use crate::traffic::{parse_scenario, Scenario};

/// Read and check the scenario file at `path`.
pub fn load_scenario(path: &Path) -> Result<Scenario> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read scenario {}", path.display()))?;
    parse_scenario(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
