//! What a node that is not the master answers the workers that reach it: every `hello` is
//! refused with 3070 naming the current master ([`not_master()`]), so the worker connects there,
//! and nothing else is served. A master-eligible node runs this on its cluster port while it is
//! not the master (see the daemon's role supervisor); the leader it names comes from the
//! consensus engine through a `watch` channel.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinSet;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{MasterLocation, WazuhException, not_master};

use crate::clock::Clock;
use crate::config::SessionConfig;
use crate::session::{
    DuplicateRoute, Gate, Handler, HandlerResult, Request, Router, SessionParts, session,
};
use crate::transport::Listener;

/// How long a redirected connection may stay open: enough for `hello` and its refusal.
pub const REDIRECT_LINGER: Duration = Duration::from_secs(10);

/// The context of a redirected connection: where the master is now, and whether the peer said
/// `hello` (a worker, to be refused and let go) rather than only open-route requests (another
/// master-eligible node's Raft RPCs, which keep their connection).
pub struct RedirectConn {
    master: Option<MasterLocation>,
    said_hello: watch::Sender<bool>,
}

struct Refuse;

#[async_trait]
impl Handler<RedirectConn> for Refuse {
    async fn handle(&self, conn: &RedirectConn, _request: Request) -> HandlerResult {
        Err(not_master(conn.master.as_ref()))
    }
}

impl Gate<RedirectConn> for Refuse {
    fn admit(&self, conn: &RedirectConn, command: &Command) -> Result<(), Box<WazuhException>> {
        if *command == names::HELLO {
            conn.said_hello.send_replace(true);
            Ok(())
        } else {
            Err(Box::new(not_master(conn.master.as_ref())))
        }
    }
}

/// Serves the connections `listener` accepts with redirections to the master `master` names at
/// the time each connection arrives, until the listener closes or the future is dropped.
/// `router` holds the open routes served beside (the Raft RPCs of a master-eligible node; see
/// [`Router::route_open`]); a connection that said `hello` is closed [`REDIRECT_LINGER`] after
/// it, the others live as long as their peer keeps them.
pub async fn serve_redirects(
    mut listener: impl Listener,
    master: watch::Receiver<Option<MasterLocation>>,
    clock: Arc<dyn Clock>,
    tag: &str,
    mut router: Router<RedirectConn>,
) -> Result<(), DuplicateRoute> {
    router.gate(Refuse).route(names::HELLO, Refuse)?;
    let router = Arc::new(router);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok(Some(connection)) => {
                    let (said_hello, mut hello_seen) = watch::channel(false);
                    let conn = RedirectConn { master: master.borrow().clone(), said_hello };
                    let (_handle, driver) = session(connection.transport, SessionParts {
                        router: router.clone(),
                        ctx: Arc::new(conn),
                        clock: clock.clone(),
                        config: SessionConfig::default(),
                        counter_start: 0,
                        peer: connection.peer,
                        tag: tag.to_owned(),
                    });
                    let clock = clock.clone();
                    connections.spawn(async move {
                        let run = pin!(driver.run());
                        let linger = async {
                            if hello_seen.wait_for(|&said| said).await.is_ok() {
                                clock.sleep(REDIRECT_LINGER).await;
                            } else {
                                std::future::pending::<()>().await;
                            }
                        };
                        tokio::select! {
                            () = run => {}
                            () = linger => {}
                        }
                    });
                }
                Ok(None) => return Ok(()),
                Err(error) => {
                    tracing::error!(tag, subtag = "Main", "Error accepting a connection: {error}");
                }
            },
        }
    }
}
