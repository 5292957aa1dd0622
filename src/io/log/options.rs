//! How a log is read: the choices the caller makes. The library reads no environment variable;
//! the binary sets the diagnostic ones (`WABILL_PLAIN_READER`, `WABILL_TRACE`) from its own.

/// Which reader reads a CSV log (the other formats have one reader each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CsvReader {
    /// 32 MB blocks cut at record boundaries, their pieces validated in parallel and absorbed in
    /// file order.
    #[default]
    Block,
    /// Every line through the CSV parser (csv-core), one at a time, no parallel parsing: the
    /// reference the block reader is tested against (same log, byte for byte).
    Plain,
}

/// Options of `read_log` and of every reader. Plain data, so the binary builds it once and every
/// read takes a copy; progress is reported through a separate callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// The rulebook follows the date, so business rows before 2022-02-01, when no rulebook
    /// applies (billing-rules.md §1), are rejected. `false` under a forced rulebook.
    pub auto_rulebook: bool,
    /// The CSV reader.
    pub reader: CsvReader,
    /// Phase timings on stderr (`wabill: block: parse … s, merge … s`, `wabill: finish: … s`).
    pub trace: bool,
}

impl Default for ReadOptions {
    /// The rulebook follows the date, the block reader, no timings.
    fn default() -> Self {
        ReadOptions {
            auto_rulebook: true,
            reader: CsvReader::Block,
            trace: false,
        }
    }
}
