//! The replicated registry's state machine in memory, with its current snapshot.

use std::io;
use std::sync::Arc;

use futures_util::Stream;
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use tokio::sync::Mutex;

use crate::replicated::{
    MachineState, Registry, RegistryLogId, RegistryMembership, RegistryRaftConfig as C,
    RegistrySnapshot, RegistrySnapshotMeta, apply_batch,
};

#[derive(Debug, Default)]
struct Machine {
    state: MachineState,
    snapshot: Option<RegistrySnapshot>,
}

/// The state machine; clones share one state (the clone is openraft's snapshot builder, and
/// a test's window on the registry).
#[derive(Debug, Clone, Default)]
pub struct MemoryStateMachine {
    machine: Arc<Mutex<Machine>>,
}

impl MemoryStateMachine {
    /// An empty registry (only the `default` group).
    pub fn new() -> Self {
        Self::default()
    }

    /// What the state machine holds now.
    pub async fn state(&self) -> MachineState {
        self.machine.lock().await.state.clone()
    }
}

impl RaftSnapshotBuilder<C> for MemoryStateMachine {
    type SnapshotData = Registry;

    async fn build_snapshot(&mut self) -> Result<RegistrySnapshot, io::Error> {
        let mut machine = self.machine.lock().await;
        let snapshot = machine.state.snapshot();
        machine.snapshot = Some(snapshot.clone());
        Ok(snapshot)
    }
}

impl RaftStateMachine<C> for MemoryStateMachine {
    type SnapshotData = Registry;
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<RegistryLogId>, RegistryMembership), io::Error> {
        let machine = self.machine.lock().await;
        Ok((machine.state.last_applied, machine.state.membership.clone()))
    }

    async fn apply<S>(&mut self, entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<C>, io::Error>> + Unpin + Send,
    {
        let mut machine = self.machine.lock().await;
        let answers = apply_batch(&mut machine.state, entries, |_, _| {}).await?;
        drop(machine);
        answers.send();
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self {
        self.clone()
    }

    async fn install_snapshot(
        &mut self,
        meta: &RegistrySnapshotMeta,
        registry: Registry,
    ) -> Result<(), io::Error> {
        let mut machine = self.machine.lock().await;
        machine.state = MachineState::from_snapshot(meta, registry.clone());
        machine.snapshot = Some(RegistrySnapshot {
            meta: meta.clone(),
            snapshot: registry,
        });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<RegistrySnapshot>, io::Error> {
        Ok(self.machine.lock().await.snapshot.clone())
    }
}
