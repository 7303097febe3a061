//! The unit file in `packaging/` passes `systemd-analyze verify` (with the binary paths pointed
//! at this build), where systemd is installed; skipped with a message otherwise.

use std::path::Path;
use std::process::Command;

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const UNIT: &str = include_str!("../../packaging/wazuh-clusterd.service");

#[test]
fn the_unit_file_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    assert!(UNIT.contains("Type=notify"), "the daemon speaks sd_notify");
    assert!(UNIT.contains("ExecReload=/bin/kill -HUP $MAINPID"));
    for hardening in [
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "ReadWritePaths=/var/ossec",
    ] {
        assert!(UNIT.contains(hardening), "missing {hardening}");
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("wazuh-clusterd.service");
    let daemon = Path::new(DAEMON).canonicalize().unwrap();
    std::fs::write(
        &unit,
        UNIT.replace(
            "/usr/local/bin/wazuh-clusterd",
            &daemon.display().to_string(),
        ),
    )
    .unwrap();
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Lines about the host's own units (not ours) are not this file's problems.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("wazuh-clusterd.service"))
        .collect();
    assert!(
        output.status.success() && ours.is_empty(),
        "systemd-analyze verify failed ({}):\n{stderr}",
        output.status
    );
}
