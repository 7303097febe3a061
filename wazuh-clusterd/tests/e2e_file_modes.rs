//! End-to-end: the real daemon's files and folders under the home. The database and its WAL
//! and SHM are 0640 and the control socket 0660 even under `umask 000`; a symbolic link planted
//! at `queue/cluster` or `logs/cluster.log` is never followed (the node refuses to start and
//! the link's target is untouched).

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, wait_for_nodes, wait_until, write_home};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(20);
const KEYS: &[u8] = b"001 agent1 any 0123456789abcdef\n";

/// The daemon of `home`, started by a shell with `umask` set first; killed on drop.
struct Daemon(Child);

impl Daemon {
    fn start(home: &Path, umask: &str) -> Daemon {
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" --home \"$1\" -f"))
            .arg(DAEMON)
            .arg(home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the daemon");
        Daemon(child)
    }

    /// The exit status and stderr once it exits within [`WAIT`].
    fn exited(mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.0.try_wait().unwrap() {
                let mut stderr = String::new();
                std::io::Read::read_to_string(self.0.stderr.as_mut().unwrap(), &mut stderr)
                    .unwrap();
                return (status, stderr);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the daemon did not exit within {WAIT:?}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn master_home(root: &Path) -> (LocalCluster, PathBuf) {
    let cluster = LocalCluster::new(Path::new(DAEMON), root).expect("cluster settings");
    let home = cluster.home("master01");
    write_home(&home, &cluster.spec("master01", NodeType::Master)).unwrap();
    std::fs::write(home.join("etc/client.keys"), KEYS).unwrap();
    (cluster, home)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn database_wal_shm_and_socket_have_their_modes_under_umask_000() {
    let root = tempfile::tempdir().unwrap();
    let (_cluster, home) = master_home(root.path());
    let _daemon = Daemon::start(&home, "000");
    assert!(wait_for_nodes(&home, &["master01"], WAIT), "node up");
    let db = home.join("var/db/cluster.db");
    let companions = [
        home.join("var/db/cluster.db-wal"),
        home.join("var/db/cluster.db-shm"),
    ];
    assert!(
        wait_until(WAIT, || companions.iter().all(|p| p.exists())),
        "WAL and SHM exist"
    );
    for file in [&db, &companions[0], &companions[1]] {
        assert_eq!(mode(file), 0o640, "{}", file.display());
    }
    assert_eq!(mode(&home.join("queue/cluster/c-internal.sock")), 0o660);
    let leftovers: Vec<_> = std::fs::read_dir(home.join("queue/cluster"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["c-internal.sock"], "no staging folder left");
}

#[test]
fn a_linked_queue_folder_is_not_emptied_and_the_node_refuses_to_start() {
    let root = tempfile::tempdir().unwrap();
    let (_cluster, home) = master_home(root.path());
    std::fs::create_dir_all(home.join("queue")).unwrap();
    symlink(home.join("etc"), home.join("queue/cluster")).unwrap();
    let (status, stderr) = Daemon::start(&home, "022").exited();
    assert!(!status.success(), "refused to start");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read(home.join("etc/client.keys")).unwrap(), KEYS);
    assert!(home.join("etc/ossec.conf").exists(), "etc kept whole");
}

#[test]
fn a_linked_log_file_is_not_written_and_the_node_refuses_to_start() {
    let root = tempfile::tempdir().unwrap();
    let (_cluster, home) = master_home(root.path());
    std::fs::create_dir_all(home.join("logs")).unwrap();
    symlink(home.join("etc/client.keys"), home.join("logs/cluster.log")).unwrap();
    let (status, stderr) = Daemon::start(&home, "022").exited();
    assert!(!status.success(), "refused to start");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read(home.join("etc/client.keys")).unwrap(), KEYS);
}
