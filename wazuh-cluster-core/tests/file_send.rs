//! A file sent on a session (`new_file`, `file_upd`..., `file_end`) goes in pieces of at most
//! `MAX_PIECE` bytes, which the receiver puts back together in the order they were sent, even
//! when the sender keeps more than one piece in flight and a piece's handler is slow.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Records what arrives; the handler of the first `file_upd` takes `first_piece_delay` first
/// (a slow disk), so a later piece handled beside it would be recorded before it.
struct Recorder {
    seen: Arc<Mutex<Received>>,
    first_piece_delay: Duration,
    pieces_started: Arc<AtomicUsize>,
}

#[async_trait]
impl Handler<()> for Recorder {
    async fn handle(&self, _: &(), request: Request) -> HandlerResult {
        let first_piece = request.command.as_bytes() == b"file_upd"
            && self.pieces_started.fetch_add(1, Ordering::SeqCst) == 0;
        if first_piece {
            tokio::time::sleep(self.first_piece_delay).await;
        }
        let mut seen = self.seen.lock().unwrap();
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
    sent_and_received(Duration::ZERO).await;
}

#[tokio::test]
async fn pieces_in_flight_together_are_appended_in_the_order_sent() {
    sent_and_received(Duration::from_millis(50)).await;
}

async fn sent_and_received(first_piece_delay: Duration) {
    let (a, b) = memory_pair(addr(1), addr(2));
    let received = Arc::new(Mutex::new(Received::default()));
    let mut router = Router::new();
    let pieces_started = Arc::new(AtomicUsize::new(0));
    for command in [names::NEW_FILE, names::FILE_UPD, names::FILE_END] {
        let recorder = Recorder {
            seen: received.clone(),
            first_piece_delay,
            pieces_started: pieces_started.clone(),
        };
        router.route(command, recorder).unwrap();
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
