//! The state machine's contents independent of where they are kept: the registry, the id of
//! the last entry applied to it and the membership it last saw. The in-memory and SQLite state
//! machines both apply entries through [`MachineState::apply_entry`], so they cannot disagree.

use std::io;

use futures_util::{Stream, TryStreamExt};
use openraft::EntryPayload;
use openraft::storage::{ApplyResponder, EntryResponder};
use openraft::type_config::alias::SnapshotOf;

use super::command::{Applied, CommandResponse};
use super::registry::Registry;
use super::type_config::{
    RegistryEntry, RegistryLogId, RegistryMembership, RegistryRaftConfig, RegistrySnapshotMeta,
};

/// A snapshot of the replicated registry: its metadata and the whole registry.
pub type RegistrySnapshot = SnapshotOf<RegistryRaftConfig, Registry>;

/// What a state machine holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineState {
    /// The last entry applied.
    pub last_applied: Option<RegistryLogId>,
    /// The last membership applied.
    pub membership: RegistryMembership,
    /// The registry.
    pub registry: Registry,
}

impl MachineState {
    /// Applies one committed entry: a command changes the registry (or is refused and changes
    /// nothing), a membership entry replaces the membership, a blank entry only moves
    /// `last_applied`.
    pub fn apply_entry(&mut self, entry: &RegistryEntry) -> CommandResponse {
        self.last_applied = Some(entry.log_id);
        let response = match &entry.payload {
            EntryPayload::Blank => Ok(Applied::NoCommand),
            EntryPayload::Normal(command) => self.registry.apply(command),
            EntryPayload::Membership(membership) => {
                self.membership = RegistryMembership::new(Some(entry.log_id), membership.clone());
                Ok(Applied::NoCommand)
            }
        };
        CommandResponse(response)
    }

    /// A snapshot of everything applied so far.
    pub fn snapshot(&self) -> RegistrySnapshot {
        RegistrySnapshot {
            meta: RegistrySnapshotMeta {
                last_log_id: self.last_applied,
                last_membership: self.membership.clone(),
            },
            snapshot: self.registry.clone(),
        }
    }

    /// The state a snapshot describes.
    pub fn from_snapshot(meta: &RegistrySnapshotMeta, registry: Registry) -> Self {
        MachineState {
            last_applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
            registry,
        }
    }
}

/// Answers to applied entries, held until the state machine has stored what they changed.
#[must_use = "the clients wait for these answers: call `send` once the changes are stored"]
pub struct PendingAnswers(Vec<(ApplyResponder<RegistryRaftConfig>, CommandResponse)>);

impl PendingAnswers {
    /// Hands every answer to the client that waits for it.
    pub fn send(self) {
        for (responder, response) in self.0 {
            responder.send(response);
        }
    }
}

/// Applies a batch of committed entries to `state`, calling `changed` after each with the
/// entry's answer (a persistent state machine notes there what to write), and returns the
/// answers to send once the batch is stored.
pub async fn apply_batch<S>(
    state: &mut MachineState,
    mut entries: S,
    mut changed: impl FnMut(&MachineState, &CommandResponse),
) -> Result<PendingAnswers, io::Error>
where
    S: Stream<Item = Result<EntryResponder<RegistryRaftConfig>, io::Error>> + Unpin + Send,
{
    let mut answers = Vec::new();
    while let Some((entry, responder)) = entries.try_next().await? {
        let response = state.apply_entry(&entry);
        changed(state, &response);
        if let Some(responder) = responder {
            answers.push((responder, response));
        }
    }
    Ok(PendingAnswers(answers))
}
