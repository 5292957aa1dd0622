//! The `wabill` command line: argument parsing and exit codes only.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use wabill::cmd;

/// What WhatsApp Business Platform messaging costs, will cost, or would have cost.
#[derive(Parser)]
#[command(name = "wabill", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a message log through the billing rules and print the bill.
    Replay(cmd::replay::ReplayArgs),
    /// A billing rule by id (`PMP-3`) in the specification's words, with Meta's worked
    /// example; without an id, every rule.
    Explain(cmd::explain::ExplainArgs),
    /// What wabill sees in a file before a replay: format, column mapping, rows, dates, users,
    /// rejects and their reasons.
    Inspect(cmd::inspect::InspectArgs),
    /// Compare wabill's billing of a log with what Meta reports (webhooks, analytics).
    ///
    /// Exit code 0: no differences; 1: differences (or unreadable lines in Meta's files);
    /// 2: error.
    Reconcile(cmd::reconcile::ReconcileArgs),
    /// Manage rate cards: import Meta's files, check, list, show.
    #[command(subcommand)]
    Rates(cmd::rates::RatesCmd),
    /// Generate seeded synthetic traffic from a scenario file.
    Synth(cmd::synth::SynthArgs),
    /// Compare scenarios, settings (--vary) and rulebooks side by side, or re-price a log
    /// under several rulebooks.
    Compare(cmd::compare::CompareArgs),
    /// A monthly bill from message volumes per market and category (volume tiers applied).
    Estimate(cmd::estimate::EstimateArgs),
}

fn main() -> ExitCode {
    // A closed stdout (e.g. `| head`) ends the program quietly.
    unsafe_reset_sigpipe();
    // `--version` also says which rate cards this wabill prices with (the newest per currency).
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 2 && (args[1] == "--version" || args[1] == "-V") {
        println!("wabill {}", env!("CARGO_PKG_VERSION"));
        match cmd::newest_cards() {
            Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
            Err(e) => println!("rate cards: {e}"),
        }
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    // SIGINT/SIGTERM/SIGHUP remove the run's temporary files, then exit 130/143/129.
    cmd::interrupts::install();
    let result = match cli.command {
        Command::Replay(a) => cmd::replay::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Reconcile(a) => cmd::reconcile::run(a),
        Command::Rates(c) => cmd::rates::run(c),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Estimate(a) => cmd::estimate::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            cmd::notice(format_args!("{e:#}"));
            ExitCode::from(2)
        }
    }
}

fn unsafe_reset_sigpipe() {}
