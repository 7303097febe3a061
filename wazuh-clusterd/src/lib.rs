//! `wazuh-clusterd`: the reference daemon of the Wazuh manager cluster, as a library so that
//! tests (and the thin binaries in `src/main.rs`) can call every part.

pub mod certs;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod daemon;
pub mod demo;
pub mod fs;
pub mod home_path;
pub mod http;
pub mod keygen;
pub mod loadtest;
pub mod logging;
pub mod metrics;
pub mod net;
pub mod operations;
pub mod pidfile;
pub mod readiness;
pub mod replicated;
pub mod runtime;
pub mod skew;
pub mod storage;
pub mod tools;
pub mod watch;
