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
use crate::session::{Gate, Handler, HandlerResult, Request, Router, SessionParts, session};
use crate::transport::Listener;

/// How long a redirected connection may stay open: enough for `hello` and its refusal.
pub const REDIRECT_LINGER: Duration = Duration::from_secs(10);

/// The context of a redirected connection: where the master is now.
pub struct RedirectConn {
    master: Option<MasterLocation>,
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
            Ok(())
        } else {
            Err(Box::new(not_master(conn.master.as_ref())))
        }
    }
}

/// Serves the connections `listener` accepts with redirections to the master `master` names at
/// the time each connection arrives, until the listener closes or the future is dropped.
pub async fn serve_redirects(
    mut listener: impl Listener,
    master: watch::Receiver<Option<MasterLocation>>,
    clock: Arc<dyn Clock>,
    tag: &str,
) {
    let mut router = Router::new();
    router
        .gate(Refuse)
        .route(names::HELLO, Refuse)
        .expect("a fresh router has no routes");
    let router = Arc::new(router);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok(Some(connection)) => {
                    let conn = RedirectConn { master: master.borrow().clone() };
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
                        tokio::select! {
                            () = run => {}
                            () = clock.sleep(REDIRECT_LINGER) => {}
                        }
                    });
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::error!(tag, subtag = "Main", "Error accepting a connection: {error}");
                }
            },
        }
    }
}
