//! The `wazuh-clusterd` binary: `-t`, `-V`, `keygen`, and the start sequence.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use wazuh_clusterd::config::ClusterKey;

const KEY: &str = "c98b62a9b6169ac5f67dae55ae4a9088";

fn clusterd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wazuh-clusterd"))
        .args(args)
        .output()
        .expect("the wazuh-clusterd binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A home folder with `etc/ossec.conf` holding `cluster_body` inside `<cluster>`.
fn home_with(cluster_body: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir_all(home.path().join("etc")).unwrap();
    fs::write(
        home.path().join("etc/ossec.conf"),
        format!("<ossec_config>\n  <cluster>\n{cluster_body}\n  </cluster>\n</ossec_config>\n"),
    )
    .unwrap();
    home
}

fn home_arg(home: &Path) -> &str {
    home.to_str().unwrap()
}

#[test]
fn t_on_a_bad_file_prints_every_problem_and_exits_1() {
    let home = home_with(
        "<node_type>boss</node_type>\n<key>short</key>\n<port>80</port>\n\
         <nodes><node>localhost</node><node>10.0.0.1</node><node>10.0.0.1</node></nodes>",
    );
    let out = clusterd(&["--home", home_arg(home.path()), "-t"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let wanted = [
        r#"node_type = "boss""#,
        "key (line 4): the key is 5 characters long",
        r#"port = "80""#,
        r#"nodes/node = "localhost""#,
        r#"nodes/node = "10.0.0.1" (line 6): listed twice"#,
    ];
    assert_eq!(lines.len(), wanted.len(), "{stderr}");
    for (line, wanted) in lines.iter().zip(wanted) {
        assert!(line.starts_with("ERROR: "), "{line}");
        assert!(line.contains(wanted), "{line:?} lacks {wanted:?}");
    }
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn t_on_a_good_file_exits_0_and_warns_about_unknown_tags() {
    let home = home_with(&format!(
        "<key>{KEY}</key><nodes><node>127.0.0.1</node></nodes><colour>blue</colour>"
    ));
    let config = home.path().join("etc/ossec.conf");
    let out = clusterd(&["-c", config.to_str().unwrap(), "-t"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("configuration OK"));
    assert!(text(&out.stderr).contains("WARNING: "));
    assert!(text(&out.stderr).contains("unknown tag <colour> in <cluster>"));
}

#[test]
fn t_on_a_missing_file_names_it() {
    let home = tempfile::tempdir().unwrap();
    let out = clusterd(&["--home", home_arg(home.path()), "-t"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("ossec.conf"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn version_flag() {
    let out = clusterd(&["-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("wazuh-clusterd {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn keygen_prints_a_valid_fresh_key() {
    let first = clusterd(&["keygen"]);
    let second = clusterd(&["keygen"]);
    assert_eq!(first.status.code(), Some(0));
    let key = text(&first.stdout);
    assert!(ClusterKey::parse(key.trim_end()).is_ok(), "{key:?}");
    assert!(key.ends_with('\n'));
    assert_ne!(key, text(&second.stdout));
}

#[test]
fn disabled_cluster_exits_0_saying_so() {
    let home = home_with("<disabled>yes</disabled>");
    let out = clusterd(&["--home", home_arg(home.path())]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("Cluster disabled"),
        "{}",
        text(&out.stderr)
    );
    let log = fs::read_to_string(home.path().join("logs/cluster.log")).unwrap();
    assert!(
        log.contains(" INFO: [Cluster] [Main] Cluster disabled"),
        "{log}"
    );
}

#[test]
fn start_logs_writes_the_pid_file_and_removes_it_on_sigterm() {
    let port = wazuh_clusterd::demo::free_port().unwrap();
    let home = home_with(&format!(
        "<node_name>master01</node_name><key>{KEY}</key><port>{port}</port>\
         <bind_addr>127.0.0.1</bind_addr><nodes><node>127.0.0.1</node></nodes>"
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_wazuh-clusterd"))
        .args(["--home", home_arg(home.path()), "-f", "-d"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid_dir = home.path().join("var/run");
    let log_path = home.path().join("logs/cluster.log");
    let serving = wazuh_clusterd::demo::wait_until(Duration::from_secs(20), || {
        fs::read_to_string(&log_path).is_ok_and(|log| log.contains("Serving as master node"))
    });
    let pid_files = fs::read_dir(&pid_dir).map(|d| d.count()).unwrap_or(0);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let stopped = wazuh_clusterd::demo::wait_until(Duration::from_secs(20), || {
        child.try_wait().unwrap().is_some()
    });
    if !stopped {
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(serving, "the master never served");
    assert!(stopped, "the daemon did not stop on SIGTERM");
    assert_eq!(pid_files, 1, "one pid file while running");
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    let log = fs::read_to_string(&log_path).unwrap();
    // Each copy reads the clock on its own: compare the lines without their timestamps. Two
    // threads logging at once may reach the two copies in different orders: compare the
    // lines, not their order.
    let untimed = |text: &str| -> Vec<String> {
        let mut lines: Vec<String> = text.lines().map(|l| l[20..].to_string()).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        untimed(&stderr),
        untimed(&log),
        "-f copies the log to stderr"
    );
    assert!(
        log.contains(
            " INFO: [Cluster] [Main] Starting node: cluster wazuh, node master01 (master)"
        )
    );
    assert!(log.contains(" DEBUG: [Cluster] [Main] PID file "));
    assert!(log.contains(" INFO: [Cluster] [Main] Received SIGTERM: stopping the node."));
    assert!(log.contains(" INFO: [Cluster] [Main] Cluster node stopped."));
    assert_eq!(
        fs::read_dir(pid_dir).unwrap().count(),
        0,
        "pid file removed"
    );
}

#[test]
fn start_with_a_bad_config_logs_each_problem_and_exits_1() {
    let home = home_with("<port>1</port><bind_addr>x</bind_addr>");
    let out = clusterd(&["--home", home_arg(home.path())]);
    assert_eq!(out.status.code(), Some(1));
    let log = fs::read_to_string(home.path().join("logs/cluster.log")).unwrap();
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" ERROR: [Cluster] [Main] "))
        .collect();
    assert_eq!(errors.len(), 4, "port, bind_addr, key, nodes: {log}");
    assert_eq!(text(&out.stderr).lines().count(), 4, "told on stderr too");
    assert!(
        !home.path().join("var/run").exists(),
        "no pid file for a bad config"
    );
}
