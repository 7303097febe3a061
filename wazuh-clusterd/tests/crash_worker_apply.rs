//! Crash safety of the worker's apply, with real processes: a worker is killed with SIGKILL at
//! random points while it receives and applies a large sync, and after every kill its tree holds
//! no partial file (each file is absent or byte-identical to the master's: the files are new, so
//! "old" is "absent") and, once it restarted, no temporary file and no spool file of the received
//! container (`queue/cluster/<worker>/`); its database opens; at the end the next round
//! converges (every file's BLAKE2b equal to the master's).
//!
//! `WAZUH_CRASH_KILLS` sets the number of kills (default 6, enough for CI in well under a
//! minute; 50 or more by hand), `WAZUH_CRASH_FILES` the tree size (default 2000),
//! `WAZUH_CRASH_SEED` the seed of the kill points (printed, to replay a failure).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

mod crash_support;

use crash_support::{assert_database_opens, env_number};
use rand::{Rng, SeedableRng, rngs::StdRng};
use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, digests, wait_for_nodes, wait_until};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(60);
const SHARED: &str = "etc/shared";

/// `files` agent-group files of about 2 KB, 100 per group folder.
fn plant_tree(home: &Path, files: u64) {
    for i in 0..files {
        let dir = home.join(format!("{SHARED}/group{:03}", i / 100));
        std::fs::create_dir_all(&dir).unwrap();
        let body: String = (0..30)
            .map(|line| {
                format!("<localfile><location>/var/log/{i}-{line}.log</location></localfile>\n")
            })
            .collect();
        std::fs::write(dir.join(format!("file{i:05}.conf")), body).unwrap();
    }
}

/// Every regular file under `dir` whose name is one of our temporary files' shape.
fn temporary_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(temporary_files(&path));
        } else if path.to_string_lossy().ends_with(".tmp") {
            found.push(path.display().to_string());
        }
    }
    found
}

/// The files of received containers under the worker's `queue/cluster/<worker>/`.
fn spool_files(home: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(home.join("queue/cluster/worker01")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|entry| entry.path().display().to_string())
        .collect()
}

/// How many times the worker's log says the master started a sync (the worker then receives the
/// container, then applies it).
fn applies_started(worker: &NodeProcess) -> usize {
    worker.log().matches("Sync required.").count()
}

/// How many times the worker's log says it finished applying a sync.
fn applies_finished(worker: &NodeProcess) -> usize {
    worker.log().matches("[Integrity sync] Finished in").count()
}

/// Every file the worker holds under `etc/shared` is byte-identical to the master's.
fn assert_no_partial_file(master: &BTreeMap<String, Vec<u8>>, worker_home: &Path, round: u64) {
    // Temporary files are checked after the restart, which must remove them.
    let held = digests(worker_home, &[SHARED]);
    for (path, digest) in held.iter().filter(|(path, _)| !path.ends_with(".tmp")) {
        assert_eq!(
            master.get(path),
            Some(digest),
            "round {round}: {path} on the worker is neither absent nor the master's"
        );
    }
}

#[test]
fn a_worker_killed_while_applying_keeps_whole_files_and_converges() {
    let kills = env_number("WAZUH_CRASH_KILLS", 6);
    let files = env_number("WAZUH_CRASH_FILES", 2000);
    let seed = env_number("WAZUH_CRASH_SEED", rand::random::<u32>().into());
    println!("WAZUH_CRASH_KILLS={kills} WAZUH_CRASH_FILES={files} WAZUH_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let root = tempfile::tempdir().unwrap();
    let mut cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    cluster.intervals.retain(|(n, _)| n != "sync_integrity");
    cluster
        .intervals
        .push(("sync_integrity".into(), "1s".into()));
    plant_tree(&cluster.home("master01"), files);
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01"], WAIT),
        "the master did not start: {}",
        master.log()
    );
    let want = digests(&master.home, &[SHARED]);
    assert_eq!(want.len() as u64, files);
    let worker_home = cluster.home("worker01");
    // A first full apply, to learn how long one takes.
    let mut worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    let synced = |w: &NodeProcess| digests(&w.home, &[SHARED]) == want;
    assert!(
        wait_until(WAIT, || synced(&worker)),
        "no first sync: {}",
        worker.log()
    );
    worker.kill().unwrap();
    std::fs::remove_dir_all(worker_home.join(SHARED)).unwrap();
    let before = applies_started(&worker);
    worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(wait_until(WAIT, || applies_started(&worker) > before));
    let started = Instant::now();
    let finished = applies_finished(&worker);
    assert!(wait_until(WAIT, || applies_finished(&worker) > finished));
    let apply_time = started.elapsed();
    assert!(synced(&worker), "no resync: {}", worker.log());
    println!("one full apply takes about {apply_time:?}");
    let (mut partial_kills, mut left_by_kills, mut spooled_by_kills) = (0, 0, 0);
    // Temporary files a kill left; the next start must remove them (checked once it listens).
    let mut leftovers: Vec<String> = Vec::new();
    for round in 0..kills {
        // Start from an empty tree, so that every restart applies a large sync; the kill's
        // leftovers are planted back into it, as if the kill had just happened.
        worker.kill().unwrap();
        std::fs::remove_dir_all(worker_home.join(SHARED)).unwrap();
        for temp in &leftovers {
            let temp = Path::new(temp);
            std::fs::create_dir_all(temp.parent().unwrap()).unwrap();
            std::fs::write(temp, b"partial").unwrap();
        }
        let before = applies_started(&worker);
        worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
        assert!(
            wait_until(WAIT, || applies_started(&worker) > before),
            "round {round}: the worker never started applying: {}",
            worker.log()
        );
        let kept: Vec<_> = leftovers
            .drain(..)
            .filter(|t| Path::new(t).exists())
            .collect();
        assert!(
            kept.is_empty(),
            "round {round}: leftovers not removed at start: {kept:?}"
        );
        let kill_after = rng.random_range(0..apply_time.as_millis().max(1) as u64);
        std::thread::sleep(Duration::from_millis(kill_after));
        worker.kill().unwrap();
        leftovers.extend(temporary_files(&worker_home.join("etc")));
        let spooled = spool_files(&worker_home);
        spooled_by_kills += spooled.len();
        leftovers.extend(spooled);
        left_by_kills += leftovers.len();
        let held = digests(&worker_home, &[SHARED]).len();
        if held > 0 && held < want.len() {
            partial_kills += 1;
        }
        assert_no_partial_file(&want, &worker_home, round);
        assert_database_opens(&worker_home, round);
        println!("round {round}: killed {kill_after} ms into the apply, {held} files held");
    }
    worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(
        wait_until(WAIT, || synced(&worker)),
        "the worker did not converge after the last kill: {}",
        worker.log()
    );
    assert_eq!(
        temporary_files(&worker_home.join("etc")),
        Vec::<String>::new()
    );
    assert!(
        wait_until(WAIT, || spool_files(&worker_home).is_empty()),
        "a received container is removed once applied: {:?}",
        spool_files(&worker_home)
    );
    println!(
        "{partial_kills} of {kills} kills landed mid-apply (some files written, not all); \
         they left {left_by_kills} temporary and spool files ({spooled_by_kills} spool files), \
         all removed at the next start"
    );
}
