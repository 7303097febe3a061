//! `wazuh-clusterd loadtest`: one master and N workers as real `wazuh-clusterd` processes on
//! 127.0.0.1 (the demo's homes and `ossec.conf`, plus `<metrics>` per node), A agents (the
//! last R registered on the master in bursts through its control socket, the others written
//! into its database before it starts: [`seed`] says why) played on the workers by
//! `wazuh-agent-sim` (one per worker, keepalives spread over the workers), and a tree of F files
//! under the master's `etc/shared` that changes during the change storm.
//!
//! Phases: **setup** (start, registrations, `client.keys` on every worker, every agent seen
//! active), **stable** (agents reporting, nothing changing), **storm** (files changed at a given
//! rate, then until every worker holds the master's tree). For each phase: task durations on
//! the master and on the workers from their own Prometheus histograms ([`histogram`]) and their
//! largest from the nodes' `Finished in` log lines ([`finished_lines`]), RSS and
//! CPU time from `/proc` ([`process`]), workers disconnected; at the end, ERROR lines of every
//! `cluster.log`.
//!
//! Why a subcommand of the daemon rather than a `benches/` binary: it needs the demo's cluster
//! code and the control-socket client of this crate, and an operator can run it from an
//! installed daemon with no Rust toolchain (as with `demo`).

pub mod finished_lines;
pub mod histogram;
mod names;
mod nodes;
mod options;
pub mod process;
mod register;
mod report;
mod rig;
pub mod seed;
mod tree;

use std::path::PathBuf;
use std::process::ExitCode;

pub use options::{LoadtestArgs, Settings};
pub use register::Registration;
pub use report::{Phase, Report};
pub use rig::{RigError, run};

/// Runs the load test with `args` (`binary`: the `wazuh-clusterd` the nodes run) and returns
/// the exit code: 1 when the run failed, or with `--quick` when it was not clean.
pub fn main(args: &LoadtestArgs, binary: PathBuf) -> ExitCode {
    let settings = match args.settings(binary) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("ERROR: {message}");
            return ExitCode::FAILURE;
        }
    };
    let root = match tempfile::Builder::new().prefix("wazuh-loadtest-").tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("ERROR: cannot create a temporary folder for the nodes: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (quick, keep, json) = (settings.quick, settings.keep, settings.json.clone());
    let outcome = run(settings, root.path());
    if keep || outcome.is_err() {
        let kept = root.keep();
        eprintln!("homes and logs kept in {}", kept.display());
    }
    let report = match outcome {
        Ok(report) => report,
        Err(e) => {
            eprintln!("ERROR: load test failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.text());
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report).expect("a report is plain data");
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("ERROR: cannot write the report to {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let problems = report.problems();
    if quick && !problems.is_empty() {
        eprintln!(
            "ERROR: the quick load test is not clean: {}",
            problems.join("; ")
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
