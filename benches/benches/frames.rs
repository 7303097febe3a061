//! Whole frames: `encode_message` with Fernet (encrypt, base64, headers, division over 5 MiB)
//! and `MessageDecoder` push + `next_message` (frames, reassembly, verify, decrypt) at 1 KiB,
//! 64 KiB, 1 MiB and 5 MiB (criterion), then, outside test mode, the same work by Python
//! `cryptography` (`struct.pack('!2I12s')` + Fernet, as Wazuh's `msg_build`) and OpenSSL's
//! one-core limit as a ratio table.

use std::hint::black_box;
use std::time::Duration;

use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput};
use wazuh_cluster_benches::compare::{self, SIZES};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{Fernet, Limits, Message, MessageDecoder, encode_message};

const KEY: &str = "c98b62a9b6169ac5f67dae55ae4a9088";
const UNIX_TIME: u64 = 1_795_701_891;

fn encode(message: &Message, fernet: &Fernet, out: &mut BytesMut) {
    out.clear();
    encode_message(message, Some(fernet), UNIX_TIME, out);
}

fn decode(decoder: &mut MessageDecoder, wire: &[u8]) -> usize {
    decoder.push(wire);
    let decoded = decoder
        .next_message(Duration::ZERO)
        .expect("own frames decode")
        .expect("a whole message");
    decoded.message.payload.len()
}

fn main() {
    let fernet = Fernet::from_cluster_key(KEY).expect("valid key");
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let inputs: Vec<(usize, Message, BytesMut)> = SIZES
        .iter()
        .map(|&size| {
            let message = Message::new(7, names::SYN_I_W_M_P, vec![b'a'; size]);
            let mut wire = BytesMut::new();
            encode(&message, &fernet, &mut wire);
            (size, message, wire)
        })
        .collect();
    let mut decoder = MessageDecoder::new(Some(fernet.clone()), Limits::default());

    let mut group = criterion.benchmark_group("frame_encode");
    let mut out = BytesMut::new();
    for (size, message, _) in &inputs {
        group.throughput(Throughput::Bytes(*size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), message, |b, m| {
            b.iter(|| encode(black_box(m), &fernet, &mut out))
        });
    }
    group.finish();
    let mut group = criterion.benchmark_group("frame_decode");
    for (size, _, wire) in &inputs {
        group.throughput(Throughput::Bytes(*size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), wire, |b, w| {
            b.iter(|| decode(&mut decoder, black_box(w)))
        });
    }
    group.finish();
    criterion.final_summary();

    if compare::is_test_mode() {
        return;
    }
    let mut work: Vec<compare::Work<'_>> = Vec::new();
    for (size, message, _) in &inputs {
        let (fernet, mut out) = (&fernet, BytesMut::new());
        work.push(compare::Work {
            op: "frame_encode",
            size: *size,
            run: Box::new(move || encode(message, fernet, &mut out)),
        });
    }
    for (size, _, wire) in &inputs {
        let mut decoder = MessageDecoder::new(Some(fernet.clone()), Limits::default());
        work.push(compare::Work {
            op: "frame_decode",
            size: *size,
            run: Box::new(move || {
                black_box(decode(&mut decoder, wire));
            }),
        });
    }
    compare::report("Frames (plaintext MB/s)", work, Duration::from_millis(1000));
}
