//! `wazuh-clusterd`: the reference daemon of the Wazuh manager cluster.

use std::process::ExitCode;

use clap::Parser;

/// The process's allocator: jemalloc, whose background thread gives the pages freed after a
/// peak back to the system, where glibc kept them in its arenas (options in
/// `.cargo/config.toml`; benches/README.md, "The daemon's allocator").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    wazuh_clusterd::cli::run(wazuh_clusterd::cli::Cli::parse())
}
