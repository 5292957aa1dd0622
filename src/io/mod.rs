//! Input and output at the edges: log readers, the rates directory and Meta's rate-card layout,
//! Meta's webhooks and analytics responses, generated logs, atomic writers. The billing core
//! never calls into here.

pub mod analytics;
pub mod generated;
pub mod log;
pub mod meta_layout;
pub mod output;
pub mod parquet;
pub mod rates_dir;
pub mod scenario_file;
pub mod webhooks;
