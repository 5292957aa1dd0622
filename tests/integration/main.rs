//! All integration tests in one binary (ripgrep style): faster to build, one place to look.

mod adapter;
mod cli;
mod common;
mod compare;
mod estimate;
mod fuzz;
mod golden;
mod meta_layout;
mod model;
mod model_props;
mod otp_flow;
mod props;
mod readme;
mod reconcile;
mod regression;
mod reliability_r_files;
mod reliability_r_rates;
mod reliability_r_text;
mod reliability_readers;
mod report;
mod rules;
mod scale;
mod synth_logs;
mod tidy;
mod users;
mod webhooks_2026;
