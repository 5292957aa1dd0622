//! Input and output at the edges: log readers, the accounts, volumes and market-map files, the
//! rates directory and Meta's rate-card layout, Meta's webhooks and analytics responses,
//! generated logs, atomic writers. The billing core never calls into here.

pub mod accounts_file;
pub mod analytics;
pub mod generated;
pub mod log;
pub mod market_map;
pub mod meta_layout;
pub mod output;
pub mod parquet;
pub mod rates_dir;
pub mod scenario_file;
pub mod volumes_file;
pub mod webhooks;
