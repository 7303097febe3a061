//! The local control server.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::UnixListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::codec::Framed;
use wazuh_cluster_core::session::{Router, SessionParts, session};
use wazuh_cluster_core::transport::boxed;
use wazuh_cluster_core::{Clock, SessionConfig};
use wazuh_cluster_proto::{Limits, MessageCodec};

use super::ControlContext;
use crate::clock::SystemClock;

/// Mode of the socket file: owner and group read and write, as Wazuh's.
pub const SOCKET_MODE: u32 = 0o660;

/// The bound control socket.
#[derive(Debug)]
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
}

impl ControlServer {
    /// Binds the socket at `path` (replacing a stale file left by a previous run), created with
    /// mode 0660 and, when the system has a `wazuh` group, that group
    /// ([`super::socket_file::bind_final`]).
    pub fn bind(path: &Path) -> io::Result<Self> {
        Self::bind_with_group(path, super::socket_file::wazuh_group())
    }

    /// Like [`ControlServer::bind`], with the socket's group chosen by the caller (`None`: the
    /// process's group).
    pub fn bind_with_group(path: &Path, gid: Option<u32>) -> io::Result<Self> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let listener = super::socket_file::bind_final(path, SOCKET_MODE, gid)?;
        Ok(Self {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// The socket file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves clients with the commands of `router` until the future is dropped; then removes
    /// the socket file. Each client sees the context `contexts` holds when it connects (the
    /// role supervisor replaces it when the node changes role).
    pub async fn serve(
        self,
        router: Router<ControlContext>,
        contexts: watch::Receiver<ControlContext>,
        clock: SystemClock,
    ) {
        let _remove_socket = RemoveOnDrop(self.path.clone());
        let router = Arc::new(router);
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let mut clients = JoinSet::new();
        let mut next_id = 0u32;
        tracing::info!(
            tag = "Local Server",
            subtag = "Main",
            "Serving on {}.",
            self.path.display()
        );
        loop {
            tokio::select! {
                Some(_) = clients.join_next(), if !clients.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        next_id = next_id.wrapping_add(1) & 0xF_FFFF;
                        let tag = format!("Local {next_id}");
                        let codec = MessageCodec::new(None, Limits::default(), Arc::new(SystemClock::new()));
                        let transport = boxed(Framed::new(stream, codec), &tag);
                        let (_handle, driver) = session(transport, SessionParts {
                            router: router.clone(),
                            ctx: Arc::new(contexts.borrow().clone()),
                            clock: clock.clone(),
                            config: SessionConfig::default(),
                            counter_start: 0,
                            peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                            tag,
                        });
                        clients.spawn(driver.run());
                    }
                    Err(error) => {
                        tracing::error!(tag = "Local Server", subtag = "Main", "Error accepting a local connection: {error}.");
                        clock.sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
            }
        }
    }
}

/// Removes the socket file when the server stops.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
