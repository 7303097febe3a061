//! A file sent on a session (`new_file`, `file_upd`..., `file_end`) goes in pieces of at most
//! `MAX_PIECE` bytes, which the receiver puts back together.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::session_end;
use wazuh_cluster_core::session::{Handler, HandlerResult, Reply, Request, Router};
use wazuh_cluster_core::testing::{VirtualClock, memory_pair};
use wazuh_cluster_core::transfer::{MAX_PIECE, send_file};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{FileEnd, FileUpdate, sha256};

/// What the receiving side saw: each `file_upd` chunk, and the `file_end` digest.
#[derive(Default)]
struct Received {
    starts: usize,
    chunks: Vec<Vec<u8>>,
    digest: Option<[u8; 32]>,
}

struct Recorder(Arc<Mutex<Received>>);

#[async_trait]
impl Handler<()> for Recorder {
    async fn handle(&self, _: &(), request: Request) -> HandlerResult {
        let mut seen = self.0.lock().unwrap();
        match request.command.as_bytes() {
            b"new_file" => seen.starts += 1,
            b"file_upd" => {
                let update = FileUpdate::decode(&request.payload).unwrap();
                seen.chunks.push(update.chunk.to_vec());
            }
            _ => seen.digest = Some(FileEnd::decode(&request.payload).unwrap().digest),
        }
        Ok(Some(Reply::ok(b"File correctly received".to_vec())))
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[tokio::test]
async fn a_file_goes_in_pieces_of_at_most_max_piece_and_arrives_whole() {
    let (a, b) = memory_pair(addr(1), addr(2));
    let received = Arc::new(Mutex::new(Received::default()));
    let mut router = Router::new();
    for command in [names::NEW_FILE, names::FILE_UPD, names::FILE_END] {
        router.route(command, Recorder(received.clone())).unwrap();
    }
    let clock = Arc::new(VirtualClock::default());
    let sender = session_end(a, Router::new(), clock.clone(), 1, addr(2), "Sender");
    let _receiver = session_end(b, router, clock, 1000, addr(1), "Receiver");
    let data: Vec<u8> = (0..2 * MAX_PIECE + 12_345)
        .map(|i| (i % 251) as u8)
        .collect();
    let sent = send_file(&sender, "/queue/cluster/w1/w1-1.zip", &data)
        .await
        .unwrap();
    assert_eq!(sent, data.len() as u64);
    let seen = received.lock().unwrap();
    assert_eq!(seen.starts, 1);
    let lengths: Vec<usize> = seen.chunks.iter().map(Vec::len).collect();
    assert_eq!(lengths, [MAX_PIECE, MAX_PIECE, 12_345]);
    assert_eq!(seen.chunks.concat(), data);
    assert_eq!(seen.digest, Some(sha256(&data)));
}
