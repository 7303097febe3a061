//! The operator tools without a cluster: wrong arguments print the usage and exit 1; with no
//! daemon they say `ERROR: Cluster is not running.` and exit 1.

use std::path::Path;
use std::process::{Command, Output};

const CONTROL: &str = env!("CARGO_BIN_EXE_cluster_control");
const MANAGE: &str = env!("CARGO_BIN_EXE_manage_agents");
const GROUPS: &str = env!("CARGO_BIN_EXE_agent_groups");
const SIM: &str = env!("CARGO_BIN_EXE_wazuh-agent-sim");

fn run(binary: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(binary)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run the tool")
}

fn assert_wrong_arguments(binary: &str, args: &[&str]) {
    let home = tempfile::tempdir().unwrap();
    let out = run(binary, home.path(), args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{binary} {args:?}: {stderr}");
    assert!(
        stderr.starts_with("Wrong arguments.") && stderr.contains("Usage:"),
        "{binary} {args:?}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "{binary} {args:?}");
}

#[test]
fn wrong_arguments_print_the_usage_and_exit_1() {
    assert_wrong_arguments(CONTROL, &["-l", "-fs", "active"]);
    assert_wrong_arguments(CONTROL, &["-fs", "active"]);
    assert_wrong_arguments(MANAGE, &[]);
    assert_wrong_arguments(MANAGE, &["-a", "any"]);
    assert_wrong_arguments(MANAGE, &["-n", "web"]);
    assert_wrong_arguments(MANAGE, &["-r", "001", "-l"]);
    assert_wrong_arguments(MANAGE, &["-l", "-G", "linux"]);
    assert_wrong_arguments(MANAGE, &["--bogus"]);
    assert_wrong_arguments(GROUPS, &[]);
    assert_wrong_arguments(GROUPS, &["-a"]);
    assert_wrong_arguments(GROUPS, &["-r", "-g", "linux"]);
    assert_wrong_arguments(GROUPS, &["-a", "-l", "-g", "linux"]);
    assert_wrong_arguments(GROUPS, &["-l", "-i", "001"]);
    assert_wrong_arguments(SIM, &[]);
    assert_wrong_arguments(SIM, &["--agents", "0"]);
    assert_wrong_arguments(SIM, &["--agents", "2", "--interval", "0"]);
    assert_wrong_arguments(SIM, &["--agents", "2", "--disconnect", "--rounds", "3"]);
}

#[test]
fn help_exits_0() {
    let home = tempfile::tempdir().unwrap();
    for binary in [MANAGE, GROUPS, SIM] {
        let out = run(binary, home.path(), &["--help"]);
        assert_eq!(out.status.code(), Some(0), "{binary}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage:"));
    }
}

#[test]
fn every_tool_says_when_the_cluster_is_not_running() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("etc")).unwrap();
    std::fs::write(
        home.path().join("etc/client.keys"),
        "001 web-01 any 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let cases: [(&str, &[&str]); 6] = [
        (CONTROL, &["-a"]),
        (MANAGE, &["-l"]),
        (MANAGE, &["-a", "any", "-n", "web-02"]),
        (GROUPS, &["-l"]),
        (GROUPS, &["-a", "-g", "linux"]),
        (SIM, &["--agents", "1", "--rounds", "1"]),
    ];
    for (binary, args) in cases {
        let out = run(binary, home.path(), args);
        assert_eq!(out.status.code(), Some(1), "{binary} {args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "ERROR: Cluster is not running.\n",
            "{binary} {args:?}"
        );
    }
}

#[test]
fn the_simulator_needs_enough_agents_in_client_keys() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("etc")).unwrap();
    std::fs::write(home.path().join("etc/client.keys"), "").unwrap();
    let out = run(SIM, home.path(), &["--agents", "3", "--rounds", "1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("lists 0 agent(s), fewer than --agents 3"),
        "{stderr}"
    );
}
