//! Dispatch of inbound requests: a table from command to handler.
//!
//! Each capability (handshake, keepalive, and later integrity, agent-info, agent-groups,
//! registration forwarding) is a module that adds its handlers with [`Router::route`]; nothing
//! edits a central `match`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::payload::WazuhException;

use super::handle::SessionHandle;
pub use super::reply::Reply;

/// An inbound request as a handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The counter the reply will carry.
    pub counter: u32,
    /// The command.
    pub command: Command,
    /// The payload.
    pub payload: Bytes,
    /// The session it arrived on, to send requests of one's own to the same peer.
    pub session: SessionHandle,
}

/// What a handler decides: a reply, no reply at all (`Ok(None)`, as Wazuh's `(None, None)`), or
/// an error sent back as `err` with the WazuhJSON exception payload.
pub type HandlerResult = Result<Option<Reply>, WazuhException>;

/// Handles one command. `Ctx` is the per-connection context of the role (master or worker).
#[async_trait]
pub trait Handler<Ctx>: Send + Sync + 'static {
    /// Handles `request`. Runs concurrently with other requests of the same connection.
    async fn handle(&self, ctx: &Ctx, request: Request) -> HandlerResult;
}

/// Why a route could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("command {command} already has a handler; each command is handled by one module")]
pub struct DuplicateRoute {
    /// The command routed twice.
    pub command: Command,
}

/// Decides, per connection, whether a command may run now: the role's admission rule (the
/// master admits nothing but `hello` before a successful `hello`).
pub trait Gate<Ctx>: Send + Sync + 'static {
    /// `Ok` to dispatch `command` (routed or not); `Err` refuses it: the exception is sent back
    /// as `err` and the session closes.
    fn admit(&self, ctx: &Ctx, command: &Command) -> Result<(), Box<WazuhException>>;
}

/// The table from command to handler of one role, and its admission rule.
pub struct Router<Ctx> {
    routes: BTreeMap<Command, Arc<dyn Handler<Ctx>>>,
    open: BTreeSet<Command>,
    gate: Option<Box<dyn Gate<Ctx>>>,
}

impl<Ctx> Default for Router<Ctx> {
    fn default() -> Self {
        Self {
            routes: BTreeMap::new(),
            open: BTreeSet::new(),
            gate: None,
        }
    }
}

impl<Ctx> fmt::Debug for Router<Ctx> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.routes.keys()).finish()
    }
}

impl<Ctx: Send + Sync + 'static> Router<Ctx> {
    /// An empty table: every command is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `command` to `handler`; refuses a command that already has one.
    pub fn route(
        &mut self,
        command: Command,
        handler: impl Handler<Ctx>,
    ) -> Result<&mut Self, DuplicateRoute> {
        if self.routes.contains_key(&command) {
            return Err(DuplicateRoute { command });
        }
        self.routes.insert(command, Arc::new(handler));
        Ok(self)
    }

    /// Routes `command` to `handler` and admits it whatever the gate says: for a protocol that
    /// authenticates each request by itself and needs no session identity (the Raft RPCs between
    /// master-eligible nodes, which name their target member and are sent without `hello`).
    /// Refuses a command that already has a handler.
    pub fn route_open(
        &mut self,
        command: Command,
        handler: impl Handler<Ctx>,
    ) -> Result<&mut Self, DuplicateRoute> {
        self.route(command, handler)?;
        self.open.insert(command);
        Ok(self)
    }

    /// Sets the admission rule checked before every inbound request (none: everything is
    /// admitted).
    pub fn gate(&mut self, gate: impl Gate<Ctx>) -> &mut Self {
        self.gate = Some(Box::new(gate));
        self
    }

    /// Whether `command` may run now on the connection of `ctx` (see [`Gate`]).
    pub fn admit(&self, ctx: &Ctx, command: &Command) -> Result<(), Box<WazuhException>> {
        if self.open.contains(command) {
            return Ok(());
        }
        self.gate
            .as_ref()
            .map_or(Ok(()), |gate| gate.admit(ctx, command))
    }

    /// The handler of `command`, if any.
    pub fn handler(&self, command: &Command) -> Option<Arc<dyn Handler<Ctx>>> {
        self.routes.get(command).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nothing;

    #[async_trait]
    impl Handler<()> for Nothing {
        async fn handle(&self, _: &(), _: Request) -> HandlerResult {
            Ok(None)
        }
    }

    struct RefuseAll;

    impl Gate<()> for RefuseAll {
        fn admit(&self, _: &(), command: &Command) -> Result<(), Box<WazuhException>> {
            Err(Box::new(
                WazuhException::internal(1000).with_extra_message(command.to_string()),
            ))
        }
    }

    #[test]
    fn open_routes_pass_the_gate_and_others_do_not() {
        let mut router = Router::new();
        router.gate(RefuseAll);
        router
            .route(Command::from_static("closed"), Nothing)
            .and_then(|r| r.route_open(Command::from_static("open"), Nothing))
            .expect("distinct routes");
        assert!(router.admit(&(), &Command::from_static("open")).is_ok());
        assert!(router.admit(&(), &Command::from_static("closed")).is_err());
        assert!(router.admit(&(), &Command::from_static("unknown")).is_err());
        assert!(
            router
                .route_open(Command::from_static("closed"), Nothing)
                .is_err(),
            "an open route cannot take a routed command"
        );
    }
}
