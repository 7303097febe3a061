//! A master (integrity sync and agents on, in memory, on tokio's paused clock) driven by an
//! arbitrary sequence of messages from one peer: the session, the hello gate, every handler.
//! Nothing may panic, and the smoke run holds the process under 256 MiB (`-rss_limit_mb=256`).
//!
//! Input: a flags byte (bit 0: say a valid `hello` first), then records of
//! `[command index][counter u32 LE][len u16 LE][payload]`; the index picks one of the commands
//! a master routes (or, past them, an unknown one).
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use libfuzzer_sys::fuzz_target;
use wazuh_cluster_core::agents::{AgentsConfig, MasterAgents, MemoryAgentStore};
use wazuh_cluster_core::files::memory::MemoryFileSource;
use wazuh_cluster_core::integrity::MasterIntegrity;
use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::testing::{MemoryStorage, MemorySyncStates, VirtualClock, memory_pair};
use wazuh_cluster_core::{
    Connection, IntegrityConfig, Listener, MasterBuilder, MasterConfig, TransportError,
};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{Command, Message};

const COMMANDS: [Command; 22] = [
    names::HELLO,
    names::ECHO_C,
    names::GET_NODES,
    names::SYN_I_W_M_P,
    names::SYN_I_W_M,
    names::SYN_I_W_M_E,
    names::SYN_I_W_M_R,
    names::CANCEL_TASK,
    names::NEW_FILE,
    names::FILE_UPD,
    names::FILE_END,
    names::NEW_STR,
    names::STR_UPD,
    names::SENDSYNC,
    names::SYN_A_W_M_P,
    names::SYN_A_W_M,
    names::SYN_W_G_C,
    names::SYN_W_G_E,
    names::SYN_W_G_ERR,
    names::OK,
    names::ERR,
    Command::from_static("bogus"),
];

/// Hands the master one connection, then nothing.
struct One(Option<Connection>);

#[async_trait]
impl Listener for One {
    async fn accept(&mut self) -> Result<Option<Connection>, TransportError> {
        match self.0.take() {
            Some(connection) => Ok(Some(connection)),
            None => std::future::pending().await,
        }
    }
}

fn messages(data: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 7 {
        let command = COMMANDS[usize::from(rest[0]) % COMMANDS.len()];
        let counter = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let len = usize::from(u16::from_le_bytes([rest[5], rest[6]]));
        rest = &rest[7..];
        let payload = &rest[..len.min(rest.len())];
        rest = &rest[payload.len()..];
        out.push(Message::new(counter, command, payload.to_vec()));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let clock = Arc::new(VirtualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
        let files = Arc::new(MemoryFileSource::new(ClusterItems::wazuh_default()));
        files.plant("etc/client.keys", b"001 a1 any 0123456789abcdef\n");
        files.plant("etc/shared/default/agent.conf", b"<agent_config/>");
        let mut builder = MasterBuilder::new(
            MasterConfig::new("master01", "wazuh", "4.9.2"),
            clock.clone(),
            Arc::new(MemoryStorage::new()),
        )
        .seed(1);
        builder
            .module(|ctx| {
                MasterIntegrity::new(
                    ctx,
                    files.clone(),
                    Arc::new(MemorySyncStates::new()),
                    IntegrityConfig::default(),
                )
            })
            .expect("integrity");
        builder
            .module(|ctx| {
                MasterAgents::new(
                    ctx,
                    Arc::new(MemoryAgentStore::new()),
                    files.clone(),
                    AgentsConfig::default(),
                    Some(2),
                )
            })
            .expect("agents");
        let master_addr: SocketAddr = "10.0.0.1:1516".parse().unwrap();
        let peer: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let (mut client, server) = memory_pair(peer, master_addr);
        let master = builder.build();
        let serving = tokio::spawn(master.run(One(Some(Connection {
            transport: server,
            peer,
        }))));
        let mut sequence = Vec::new();
        if flags & 1 == 1 {
            sequence.push(Message::new(1, names::HELLO, b"worker01 wazuh worker 4.9.2".to_vec()));
        }
        sequence.extend(messages(body));
        for message in sequence {
            if client.send(message).await.is_err() {
                break;
            }
            // Let the master work and answer; drain what it sent.
            tokio::time::sleep(Duration::from_millis(50)).await;
            while let Ok(Some(_)) =
                tokio::time::timeout(Duration::from_millis(1), client.next()).await
            {}
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        serving.abort();
    });
});
