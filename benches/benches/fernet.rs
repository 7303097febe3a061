//! Fernet encrypt and decrypt at 1 KiB, 64 KiB, 1 MiB and 5 MiB (criterion), then, outside test
//! mode, the same work by Python `cryptography` and OpenSSL's one-core limit as a ratio table.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use wazuh_cluster_benches::compare::{self, SIZES};
use wazuh_cluster_proto::Fernet;

const KEY: &str = "c98b62a9b6169ac5f67dae55ae4a9088";
const UNIX_TIME: u64 = 1_795_701_891;

fn main() {
    let fernet = Fernet::from_cluster_key(KEY).expect("valid key");
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let inputs: Vec<(usize, Vec<u8>, Vec<u8>)> = SIZES
        .iter()
        .map(|&size| {
            let plaintext = vec![b'a'; size];
            let token = fernet.encrypt(&plaintext, UNIX_TIME);
            (size, plaintext, token)
        })
        .collect();

    let mut group = criterion.benchmark_group("fernet_encrypt");
    for (size, plaintext, _) in &inputs {
        group.throughput(Throughput::Bytes(*size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), plaintext, |b, p| {
            b.iter(|| fernet.encrypt(black_box(p), UNIX_TIME))
        });
    }
    group.finish();
    let mut group = criterion.benchmark_group("fernet_decrypt");
    for (size, _, token) in &inputs {
        group.throughput(Throughput::Bytes(*size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), token, |b, t| {
            b.iter(|| fernet.decrypt(black_box(t)).expect("own token"))
        });
    }
    group.finish();
    criterion.final_summary();

    if compare::is_test_mode() {
        return;
    }
    let mut work: Vec<compare::Work<'_>> = Vec::new();
    for (size, plaintext, _) in &inputs {
        let fernet = &fernet;
        work.push(compare::Work {
            op: "encrypt",
            size: *size,
            run: Box::new(move || {
                black_box(fernet.encrypt(black_box(plaintext), UNIX_TIME));
            }),
        });
    }
    for (size, _, token) in &inputs {
        let fernet = &fernet;
        work.push(compare::Work {
            op: "decrypt",
            size: *size,
            run: Box::new(move || {
                black_box(fernet.decrypt(black_box(token)).expect("own token"));
            }),
        });
    }
    compare::report("Fernet (plaintext MB/s)", work, Duration::from_millis(1000));
}
