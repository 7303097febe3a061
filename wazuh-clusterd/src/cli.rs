//! Command line of `wazuh-clusterd`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

use crate::daemon::{self, DaemonOptions};
use crate::{certs, demo, keygen, loadtest};

/// Default installation folder.
pub const DEFAULT_HOME: &str = "/var/ossec";

/// `wazuh-clusterd [--home DIR] [-c FILE] [-f] [-d]... [-t] [-V] [COMMAND]`
#[derive(Debug, Clone, Parser)]
#[command(
    name = "wazuh-clusterd",
    version,
    about = "Wazuh manager cluster daemon: runs this node as the master or a worker of the cluster \
             described in the <cluster> block of ossec.conf"
)]
pub struct Cli {
    /// Installation folder: configuration in DIR/etc, logs in DIR/logs, pid file in DIR/var/run.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_HOME)]
    pub home: PathBuf,
    /// Configuration file [default: DIR/etc/ossec.conf].
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Stay in the foreground and copy the log to stderr.
    #[arg(short = 'f', long = "foreground")]
    pub foreground: bool,
    /// More log detail: -d DEBUG, -dd DEBUG2.
    #[arg(short = 'd', long = "debug", action = ArgAction::Count)]
    pub debug: u8,
    /// Check the configuration, print every problem, and exit (0 valid, 1 not).
    #[arg(short = 't', long = "test-config")]
    pub test_config: bool,
    /// A tool to run instead of the daemon.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Tools that run instead of the daemon.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Print a fresh random cluster key (32 letters and digits) for `<key>`.
    Keygen,
    /// Start a master and two workers on 127.0.0.1 under a temporary folder, show them with
    /// cluster_control, then stop them.
    Demo {
        /// Keep the temporary folder (homes, logs, databases).
        #[arg(long)]
        keep: bool,
        /// Connect the nodes with mutual TLS (a CA and node certificates made for the demo).
        #[arg(long)]
        tls: bool,
        /// Master failover instead: three master-eligible nodes and a worker; registers
        /// agents, kills the master with SIGKILL, shows the new master and the agents.
        #[arg(long)]
        failover: bool,
    },
    /// Start one master and N workers on 127.0.0.1, register and play agents, change files, and
    /// report task durations, memory, CPU, disconnects and ERROR lines per phase.
    Loadtest(loadtest::LoadtestArgs),
    /// Make a cluster CA (DIR/ca.pem, DIR/ca.key; reused when present) and a certificate and key
    /// per node (DIR/NAME.pem, DIR/NAME.key) for the tls block of ossec.conf.
    Certs {
        /// Folder of the CA and the certificates.
        #[arg(long, value_name = "DIR")]
        ca_dir: PathBuf,
        /// Node names (<node_name> of each node), one certificate each.
        #[arg(long = "node", value_name = "NAME", required = true, num_args = 1..)]
        nodes: Vec<String>,
    },
}

impl Cli {
    /// The configuration file: `-c FILE`, or `DIR/etc/ossec.conf`.
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| self.home.join("etc").join("ossec.conf"))
    }

    /// What the daemon starts with.
    pub fn daemon_options(&self) -> DaemonOptions {
        DaemonOptions {
            home: self.home.clone(),
            config_path: self.config_path(),
            foreground: self.foreground,
            debug: self.debug,
        }
    }
}

/// Runs what the command line asks and returns the process's exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Keygen) => print_key(),
        Some(Command::Certs { ca_dir, nodes }) => make_certs(&ca_dir, &nodes),
        Some(Command::Demo {
            keep,
            tls,
            failover,
        }) => match std::env::current_exe() {
            Ok(binary) => demo::main(demo::DemoOptions {
                binary,
                keep,
                tls,
                failover,
            }),
            Err(e) => {
                eprintln!("ERROR: cannot find this program's own binary to start the nodes: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Loadtest(args)) => match std::env::current_exe() {
            Ok(binary) => loadtest::main(&args, binary),
            Err(e) => {
                eprintln!("ERROR: cannot find this program's own binary to start the nodes: {e}");
                ExitCode::FAILURE
            }
        },
        None if cli.test_config => daemon::test_config(&cli.config_path(), &cli.home),
        None => daemon::start(&cli.daemon_options()),
    }
}

fn make_certs(dir: &std::path::Path, nodes: &[String]) -> ExitCode {
    match certs::make(dir, nodes) {
        Ok(written) => {
            let ca = if written.ca_created {
                "created"
            } else {
                "reused"
            };
            println!("CA {ca}: {}", written.ca.display());
            for (cert, key) in &written.nodes {
                println!("node: {} {}", cert.display(), key.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ERROR: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_key() -> ExitCode {
    match keygen::generate() {
        Ok(key) => {
            println!("{}", key.as_str());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ERROR: {e}");
            ExitCode::FAILURE
        }
    }
}
