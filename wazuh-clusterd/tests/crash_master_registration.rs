//! Crash safety of the master's agent registry, with real processes: bursts of registrations
//! through the control socket (what `manage_agents -a` sends), the master killed with SIGKILL
//! at a random moment of each burst, and after every kill: `client.keys` holds only whole,
//! well-formed lines with unique ids and names, every acknowledged registration is in it, the
//! database opens and passes `integrity_check`, and once restarted the master lists every
//! acknowledged agent.
//!
//! `WAZUH_CRASH_KILLS` sets the number of kills (default 6 for CI; 50 or more by hand),
//! `WAZUH_CRASH_SEED` the seed of the kill moments (printed, to replay a failure).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod crash_support;

use crash_support::{assert_database_opens, env_number};
use rand::{Rng, SeedableRng, rngs::StdRng};
use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::control::commands::agents::protocol::{
    AGENT_ADD, AGENT_LIST, AddAgent, AddedAgent, AgentList, ListAgents,
};
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, node_names, wait_until};
use wazuh_clusterd::tools::request::call;

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(30);
/// Concurrent registration requests in a burst.
const CLIENTS: usize = 4;

fn start_master(cluster: &LocalCluster) -> NodeProcess {
    let mut master = cluster.start_node("master01", NodeType::Master).unwrap();
    // The socket file of a killed master stays: wait for an answer, not for the file.
    assert!(
        wait_until(WAIT, || node_names(&master.home).is_some()
            || !master.is_running())
            && master.is_running(),
        "the master did not start: {}",
        master.log()
    );
    master
}

/// Registers agents named `burst{round}-{client}-{n}` from `CLIENTS` concurrent clients until
/// the master stops answering; every acknowledged registration lands in `acked`.
fn burst(home: PathBuf, round: u64, acked: Arc<Mutex<Vec<AddedAgent>>>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let clients = (0..CLIENTS).map(|client| {
            let (home, acked) = (home.clone(), Arc::clone(&acked));
            async move {
                for n in 0.. {
                    let add = AddAgent {
                        name: format!("burst{round}-{client}-{n}"),
                        ip: "any".into(),
                        groups: Vec::new(),
                    };
                    match call::<_, AddedAgent>(&home, AGENT_ADD, &add).await {
                        Ok(added) => acked.lock().unwrap().push(added),
                        Err(_) => break,
                    }
                }
            }
        });
        futures_util::future::join_all(clients).await;
    });
}

/// `client.keys` as id -> whole line, checking every line is whole and ids and names unique.
fn client_keys(home: &Path, round: u64) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(home.join("etc/client.keys")).unwrap_or_default();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "round {round}: client.keys ends mid-line"
    );
    let mut lines = BTreeMap::new();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 4, "round {round}: malformed line {line:?}");
        let [id, name, _ip, key] = fields[..] else {
            unreachable!()
        };
        assert!(
            id.len() >= 3 && id.bytes().all(|b| b.is_ascii_digit()),
            "round {round}: bad id in {line:?}"
        );
        assert!(
            key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()),
            "round {round}: bad key in {line:?}"
        );
        assert!(
            names.insert(name.to_owned()),
            "round {round}: name twice: {name}"
        );
        assert!(
            lines.insert(id.to_owned(), line.to_owned()).is_none(),
            "round {round}: id twice: {id}"
        );
    }
    lines
}

fn listed_ids(home: &Path) -> BTreeSet<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let list: AgentList = runtime
        .block_on(call(home, AGENT_LIST, &ListAgents::default()))
        .unwrap_or_else(|e| panic!("agent_list: {e}"));
    list.items.into_iter().map(|row| row.id).collect()
}

#[test]
fn a_master_killed_during_registration_bursts_loses_no_acknowledged_agent() {
    let kills = env_number("WAZUH_CRASH_KILLS", 6);
    let seed = env_number("WAZUH_CRASH_SEED", rand::random::<u32>().into());
    println!("WAZUH_CRASH_KILLS={kills} WAZUH_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    let home = cluster.home("master01");
    let acked = Arc::new(Mutex::new(Vec::new()));
    for round in 0..kills {
        let mut master = start_master(&cluster);
        let before = acked.lock().unwrap().len();
        let burster = {
            let (home, acked) = (home.clone(), Arc::clone(&acked));
            std::thread::spawn(move || burst(home, round, acked))
        };
        let kill_after = rng.random_range(50..600);
        std::thread::sleep(Duration::from_millis(kill_after));
        master.kill().unwrap();
        burster.join().unwrap();
        let acked = acked.lock().unwrap();
        let keys = client_keys(&home, round);
        for agent in acked.iter() {
            assert_eq!(
                keys.get(&agent.id),
                Some(&agent.key_line),
                "round {round}: acknowledged agent {} ({}) lost from client.keys",
                agent.id,
                agent.name
            );
        }
        assert_database_opens(&home, round);
        println!(
            "round {round}: killed after {kill_after} ms, {} registrations acknowledged in this \
             burst, {} agents in client.keys",
            acked.len() - before,
            keys.len()
        );
    }
    let _master = start_master(&cluster);
    let listed = listed_ids(&home);
    let acked = acked.lock().unwrap();
    for agent in acked.iter() {
        assert!(
            listed.contains(&agent.id),
            "acknowledged agent {} ({}) not listed after the restart",
            agent.id,
            agent.name
        );
    }
    assert!(!acked.is_empty(), "no registration was acknowledged at all");
}
