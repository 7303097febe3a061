//! Malicious peers: a worker (over a raw connection) and a master (a hand-driven listener in
//! the master's place) send `../` paths, absolute paths, names outside their folder and
//! oversized or inflating containers. Each is refused and logged, and nothing is written
//! outside the synchronized items.

mod flow;

use std::time::Duration;

use flow::logs::Lines;
use flow::raw::Raw;
use flow::{ROUND, cluster_with, config, converge};
use wazuh_cluster_core::IntegrityConfig;
use wazuh_cluster_core::files::conformance::Fixture;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};
use wazuh_cluster_core::transport::Listener;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{AddOutcome, Blake2bHex, ContainerEncoder};

fn strict() -> IntegrityConfig {
    let mut timers = config();
    timers.inbox.max_file_size = 16 << 10;
    timers.container_limits.max_decompressed = 64 << 10;
    timers
}

fn meta(key: &str) -> serde_json::Value {
    serde_json::json!({
        "mod_time": 1.0, "cluster_item_key": key, "merged": false,
        "hash": Blake2bHex::of(b"x").to_string(),
    })
}

/// A container of `files` with `metadata`, then `placeholder` replaced in the raw bytes (the
/// paths are not compressed) by `path` of the same length.
fn container(
    files: &[(&str, &[u8])],
    metadata: serde_json::Value,
    swap: Option<(&str, &str)>,
) -> Vec<u8> {
    let mut encoder = ContainerEncoder::new(1 << 20);
    for (path, content) in files {
        assert_eq!(encoder.add_file(path, content).unwrap(), AddOutcome::Added);
    }
    let mut bytes = encoder.finish(&metadata).unwrap().bytes;
    if let Some((placeholder, path)) = swap {
        assert_eq!(placeholder.len(), path.len());
        let at = bytes
            .windows(placeholder.len())
            .position(|w| w == placeholder.as_bytes())
            .expect("placeholder in the container");
        bytes[at..at + path.len()].copy_from_slice(path.as_bytes());
    }
    bytes
}

/// Sends `new_file` for each of `paths`; checks that each is refused.
async fn refuse_new_files(sim: &SimCluster, raw: &mut Raw, paths: &[&str]) {
    for bad in paths {
        let reply = raw.request(names::NEW_FILE, bad.as_bytes()).await;
        sim.check(Raw::is_err(&reply), format!("new_file {bad:?} refused"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_malicious_worker_is_refused_and_the_master_writes_nothing() {
    let (lines, _capture) = Lines::capture();
    let mut sim = cluster_with(70, 1, strict());
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    let master_before = sim.files(MASTER_NAME).snapshot();
    let mut raw = Raw::new(sim.connect_raw().await.expect("connect"));
    let hello = raw
        .request(names::HELLO, b"evil01 wazuh worker 4.9.2")
        .await;
    sim.check(
        hello.is_some_and(|m| m.command == names::OK),
        "hello accepted",
    );

    let granted = raw.request(names::SYN_I_W_M_P, b"").await.unwrap();
    sim.check(&granted.payload[..] == b"True", "permission granted");
    let tid = raw.start_task(names::SYN_I_W_M).await;

    refuse_new_files(
        &sim,
        &mut raw,
        &[
            "/queue/cluster/worker01/x.zip",
            "/queue/cluster/evil01/../../../etc/client.keys",
            "/etc/client.keys",
            "queue/cluster/evil01/x.zip",
            "/queue/cluster/evil01/sub/x.zip",
        ],
    )
    .await;
    let (big, reply) = raw.send_oversized("queue/cluster/evil01/").await;
    sim.check(!Raw::is_err(&big), "a name in its own folder is accepted");
    sim.check(
        Raw::is_err(&reply),
        "a file over the inbox limit is refused",
    );
    for bad in [
        format!("{tid} ../../etc/client.keys"),
        format!("{tid} /etc/client.keys"),
        format!("{tid} queue/cluster/evil01/../../../etc/client.keys"),
        format!("{tid} queue/cluster/evil01/never-sent.zip"),
    ] {
        let reply = raw.request(names::SYN_I_W_M_E, bad.as_bytes()).await;
        sim.check(Raw::is_err(&reply), format!("syn_i_w_m_e {bad:?} refused"));
    }

    // A well-formed transfer whose metadata names a path outside the home.
    sim.run_for(ROUND).await;
    let granted = raw.request(names::SYN_I_W_M_P, b"").await.unwrap();
    sim.check(&granted.payload[..] == b"True", "permission granted again");
    let tid = raw.start_task(names::SYN_I_W_M).await;
    let bytes = container(
        &[],
        serde_json::json!({"../../etc/passwd": meta("etc/")}),
        None,
    );
    let (replies, end) = raw
        .send_task_file(
            names::SYN_I_W_M_E,
            &tid,
            "/queue/cluster/evil01/m.zip",
            &bytes,
        )
        .await;
    sim.check(
        replies.iter().all(|c| *c == names::OK),
        format!("transfer accepted: {replies:?}"),
    );
    sim.check(
        end.is_some_and(|m| m.command == names::OK),
        "syn_i_w_m_e accepted",
    );
    raw.serve_for(Duration::from_secs(5)).await;

    // A container that inflates past the limit.
    sim.run_for(ROUND).await;
    let _ = raw.request(names::SYN_I_W_M_P, b"").await.unwrap();
    let tid = raw.start_task(names::SYN_I_W_M).await;
    let bomb = serde_json::json!({"etc/client.keys": meta("etc/"), "pad": "a".repeat(1 << 20)});
    let bytes = container(&[], bomb, None);
    sim.check(
        bytes.len() < 16 << 10,
        format!("the bomb is small on the wire: {}", bytes.len()),
    );
    raw.send_task_file(
        names::SYN_I_W_M_E,
        &tid,
        "/queue/cluster/evil01/bomb.zip",
        &bytes,
    )
    .await;
    raw.serve_for(Duration::from_secs(5)).await;

    // A check whose file never comes (the session kept alive): the master cancels it after
    // timeout_receiving_file.
    raw.request(names::ECHO_C, b"keepalive").await;
    sim.run_for(ROUND).await;
    let _ = raw.request(names::SYN_I_W_M_P, b"").await.unwrap();
    let tid = raw.start_task(names::SYN_I_W_M).await;
    let mut cancel = None;
    for _ in 0..4 {
        raw.request(names::ECHO_C, b"keepalive").await;
        cancel = raw
            .expect_request(names::CANCEL_TASK, Duration::from_secs(40))
            .await;
        if cancel.is_some() {
            break;
        }
    }
    let cancel = cancel.expect("cancel_task after the timeout");
    raw.reply_ok(&cancel).await;
    sim.check(
        cancel.payload.starts_with(format!("{tid} ").as_bytes()),
        "cancel_task names the master's task",
    );
    raw.serve_for(Duration::from_secs(1)).await;
    sim.check(
        sim.master_integrity().status("evil01").unwrap().lock_free,
        "the lock is free after the timeout",
    );
    sim.check(
        !raw.seen.contains(&names::SYN_M_C),
        format!(
            "the master never started a sync with the malicious worker: {:?}",
            raw.seen
        ),
    );
    sim.check(
        sim.files(MASTER_NAME).snapshot() == master_before,
        "the master's files are untouched",
    );
    sim.check(
        sim.files(MASTER_NAME).outside().is_empty(),
        "nothing written outside the home",
    );
    let refused = lines.matching(&["[Worker evil01] [Integrity check]", "efused"]);
    sim.check(
        refused.len() >= 12,
        format!("every refusal is logged: {refused:#?}"),
    );
    sim.check(
        !lines
            .matching(&[
                "[Worker evil01]",
                "Refused the worker's files_metadata.json",
            ])
            .is_empty(),
        "the traversal in the metadata is logged",
    );
    sim.check(
        !lines
            .matching(&["[Worker evil01]", "Refused the worker's integrity file"])
            .is_empty(),
        "the inflating container is logged",
    );
}

#[tokio::test(start_paused = true)]
async fn a_malicious_master_is_refused_and_the_worker_writes_nothing_outside_the_items() {
    let (lines, _capture) = Lines::capture();
    let mut sim = cluster_with(71, 1, strict());
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    sim.files("worker01")
        .plant("etc/ossec.conf", b"<ossec_config>worker</ossec_config>");
    let worker_before = sim.files("worker01").snapshot();
    sim.stop(MASTER_NAME);
    let mut listener = sim.net().listen(sim.master_addr());
    let conn = tokio::time::timeout(Duration::from_secs(60), listener.accept())
        .await
        .expect("the worker reconnects")
        .expect("accept")
        .expect("a connection");
    let mut raw = Raw::new(conn);
    let hello = raw
        .expect_request(names::HELLO, Duration::from_secs(5))
        .await
        .expect("hello");
    raw.send(wazuh_cluster_proto::Message::new(
        hello.counter,
        names::OK,
        b"Client worker01 added".to_vec(),
    ))
    .await;

    let missing = |path: &str| serde_json::json!({"missing": {path: meta("etc/lists/")}, "shared": {}, "extra": {}});
    let plans: Vec<(&str, Vec<u8>)> = vec![
        (
            "../ entry",
            container(
                &[("xx/passwd", b"root::0:0")],
                missing("xx/passwd"),
                Some(("xx/passwd", "../passwd")),
            ),
        ),
        (
            "absolute entry",
            container(
                &[("xetc/evil", b"evil")],
                missing("xetc/evil"),
                Some(("xetc/evil", "/etc/evil")),
            ),
        ),
        (
            "entry outside the items",
            container(
                &[("bin/evil", b"evil")],
                serde_json::json!({"missing": {"bin/evil": meta("etc/")}, "shared": {}, "extra": {}}),
                None,
            ),
        ),
        (
            "../ deletion",
            container(
                &[],
                serde_json::json!({"missing": {}, "shared": {}, "extra": {"../../etc/shadow": meta("etc/")}}),
                None,
            ),
        ),
        (
            "excluded deletion",
            container(
                &[],
                serde_json::json!({"missing": {}, "shared": {}, "extra": {"etc/ossec.conf": meta("etc/")}}),
                None,
            ),
        ),
        (
            "inflating entry",
            container(
                &[("etc/lists/bomb", &vec![0u8; 1 << 20])],
                missing("etc/lists/bomb"),
                None,
            ),
        ),
    ];
    for (what, bytes) in plans {
        sim.check(
            bytes.len() < 16 << 10,
            format!("{what}: {} bytes", bytes.len()),
        );
        let tid = raw.start_task(names::SYN_M_C).await;
        let (replies, end) = raw
            .send_task_file(
                names::SYN_M_C_E,
                &tid,
                "/queue/cluster/worker01/c.zip",
                &bytes,
            )
            .await;
        sim.check(
            replies.iter().all(|c| *c == names::OK),
            format!("{what}: transfer {replies:?}"),
        );
        sim.check(
            end.is_some_and(|m| m.command == names::OK),
            format!("{what}: syn_m_c_e"),
        );
        raw.serve_for(Duration::from_secs(2)).await;
    }
    let tid = raw.start_task(names::SYN_M_C).await;
    refuse_new_files(
        &sim,
        &mut raw,
        &[
            "/queue/cluster/worker02/c.zip",
            "/etc/client.keys",
            "/queue/cluster/worker01/../../../etc/x",
        ],
    )
    .await;
    let (_, oversized) = raw.send_oversized("queue/cluster/worker01/").await;
    sim.check(Raw::is_err(&oversized), "oversized file refused");
    let reply = raw
        .request(
            names::SYN_M_C_E,
            format!("{tid} queue/cluster/worker01/../../../etc/x").as_bytes(),
        )
        .await;
    sim.check(Raw::is_err(&reply), "syn_m_c_e outside the folder refused");
    raw.serve_for(Duration::from_secs(2)).await;

    // A sync whose container never comes: the worker cancels it after timeout_receiving_file.
    let tid = raw.start_task(names::SYN_M_C).await;
    sim.check(
        sim.worker_integrity("worker01").is_busy(),
        "busy while waiting",
    );
    let cancel = raw
        .expect_request(names::CANCEL_TASK, Duration::from_secs(130))
        .await
        .expect("cancel_task after the timeout");
    raw.reply_ok(&cancel).await;
    sim.check(
        cancel.payload.starts_with(format!("{tid} ").as_bytes())
            && String::from_utf8_lossy(&cancel.payload).contains("3039"),
        format!(
            "cancel_task names the task and error 3039: {:?}",
            String::from_utf8_lossy(&cancel.payload)
        ),
    );
    raw.serve_for(Duration::from_secs(1)).await;
    sim.check(
        !sim.worker_integrity("worker01").is_busy(),
        "no longer busy",
    );
    let worker = sim.files("worker01");
    sim.check(
        worker.snapshot() == worker_before,
        "the worker's files are untouched",
    );
    sim.check(
        worker.outside().is_empty(),
        "nothing written outside the home",
    );
    let refused = lines.matching(&["[Worker worker01] [Integrity sync]", "efused"]);
    sim.check(
        refused.len() >= 8,
        format!("every refusal is logged: {refused:#?}"),
    );
    // The worker inflates each file as it writes it: an entry inflating past the limit is
    // refused alone.
    sim.check(
        !lines
            .matching(&["Error processing file", "etc/lists/bomb", "efused"])
            .is_empty(),
        "the inflating entry is refused and logged",
    );
    let processing = lines.matching(&["Error processing file", "bin/evil"]);
    sim.check(
        !processing.is_empty(),
        "the file outside the items is logged",
    );
    sim.check(
        !lines
            .matching(&["Error processing file", "etc/ossec.conf"])
            .is_empty(),
        "the excluded deletion is logged",
    );
}
