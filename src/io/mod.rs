//! Input and output at the edges: message logs (`log`, one reader per format), the rates
//! directory and Meta's rate-card layout, Meta's webhooks and analytics responses, generated
//! logs, Parquet and atomic writers. The billing core never calls into here.

pub mod analytics;
pub mod generated;
pub mod log;
pub mod meta_layout;
pub mod output;
pub mod parquet;
pub mod rates_dir;
pub mod webhooks;
