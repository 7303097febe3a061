//! `wazuh-clusterd loadtest --quick` with the built binaries: 1 master and 3 workers as real
//! processes on 127.0.0.1, 2,000 agents played by `wazuh-agent-sim`, 500 files changing. The
//! rig's own exit code says whether it was clean; this test also reads its JSON report and
//! checks each figure the issue asks for, so a report that lies about itself fails too.

use std::process::Command;

use serde_json::Value;

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const SIM: &str = env!("CARGO_BIN_EXE_wazuh-agent-sim");

#[test]
fn quick_load_run_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let out = Command::new(DAEMON)
        .args(["loadtest", "--quick", "--agent-sim", SIM, "--json"])
        .arg(&json)
        .output()
        .expect("run wazuh-clusterd loadtest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "loadtest --quick failed:\n{stdout}\n{stderr}"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let workers = report["workers"].as_u64().unwrap();
    let agents = report["agents"].as_u64().unwrap();
    assert_eq!((workers, agents), (3, 2000));
    assert_eq!(report["disconnects"], 0, "{stdout}");
    assert_eq!(report["error_lines"], 0, "{stdout}");
    assert_eq!(
        report["workers_synchronized"].as_u64(),
        Some(workers),
        "{stdout}"
    );
    assert_eq!(report["agents_seen"].as_u64(), Some(agents), "{stdout}");
    assert_eq!(
        report["simulators_running"].as_u64(),
        Some(workers),
        "{stdout}"
    );
    assert!(report["converged_seconds"].is_number(), "{stdout}");
    assert!(report["registration"]["agents"].as_u64().unwrap() > 0);
    assert!(report["files_changed"].as_u64().unwrap() > 0, "{stdout}");
    let phases = report["phases"].as_array().unwrap();
    let names: Vec<&str> = phases.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["setup", "stable", "storm"]);
    for phase in phases {
        assert_eq!(phase["disconnects"], 0);
        // Every phase saw integrity checks on both sides, read from the daemons' metrics.
        for side in ["master", "workers"] {
            let check = &phase[side]["integrity_check"];
            assert!(check["count"].as_u64().unwrap() > 0, "{side}: {phase}");
            assert!(check["max"].as_f64().unwrap() >= check["mean"].as_f64().unwrap());
        }
        assert!(
            phase["master"]["agent_info"]["count"].as_u64().unwrap() > 0,
            "{phase}"
        );
        assert!(phase["master_usage"]["rss_max_mb"].as_f64().unwrap() > 1.0);
        assert!(phase["worker_usage"]["rss_max_mb"].as_f64().unwrap() > 1.0);
    }
    // The storm's changes were carried by integrity syncs.
    // The daemons' `Finished in` lines agree with their histograms: the exact largest
    // duration lies in the bucket the histogram gives and is at least the mean, and over the
    // run the lines count the same runs, give or take the runs in flight at a phase's mark.
    for (side, task) in [
        ("master", "integrity_check"),
        ("workers", "integrity_check"),
        ("master", "agent_info"),
        ("workers", "integrity_sync"),
    ] {
        let (mut counted, mut logged) = (0, 0);
        for phase in phases {
            let histogram = &phase[side][task];
            let lines = &phase[format!("{side}_logged")][task];
            if let Some(count) = histogram["count"].as_u64() {
                counted += count;
                let max = lines["max"].as_f64().unwrap_or(0.0);
                assert!(
                    max <= histogram["max"].as_f64().unwrap() + 0.0005,
                    "{side} {task}: {phase}"
                );
                assert!(
                    max + 0.0005 >= histogram["mean"].as_f64().unwrap(),
                    "{side} {task}: {phase}"
                );
            }
            logged += lines["count"].as_u64().unwrap_or(0);
        }
        assert!(counted > 0, "{side} {task}: {stdout}");
        assert!(
            logged.abs_diff(counted) <= 2 * workers,
            "{side} {task}: {logged} lines, {counted} in the histograms: {stdout}"
        );
    }
    assert!(
        phases[2]["workers"]["integrity_sync"]["count"]
            .as_u64()
            .unwrap()
            > 0
    );
}
