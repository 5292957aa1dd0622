//! Input and output at the edges: log readers, the rates directory and Meta's rate-card layout,
//! atomic writers. The billing core never calls into here.

pub mod generated;
pub mod log;
pub mod meta_layout;
pub mod output;
pub mod parquet;
pub mod rates_dir;
