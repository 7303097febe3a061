//! Integrity check costs: the master's metadata table over 10k and 50k real files (cold: every
//! file hashed; warm: nothing changed, a stat per file) and the comparison of two tables.
//! Reference: Python Wazuh needs 19.3 s for a 50,033-file check on 2 vCPU (Wazuh issue #10934).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::integrity::{MetadataTable, RefreshMode, compare};
use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata, FileTable};
use wazuh_clusterd::fs::DiskFileSource;

const SIZES: [usize; 2] = [10_000, 50_000];
const PYTHON_50K_SECS: f64 = 19.3;

/// `files` agent-group files of about 1 KiB, 100 per group folder.
fn populate(home: &Path, files: usize) {
    for i in 0..files {
        let dir = home.join(format!("etc/shared/group{:04}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let body = format!(
            "<agent_config name=\"{i}\">{}</agent_config>\n",
            "x".repeat(1000)
        );
        std::fs::write(dir.join(format!("file{i}.conf")), body).unwrap();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn metadata(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("integrity_metadata");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for files in SIZES {
        let dir = tempfile::tempdir().unwrap();
        populate(dir.path(), files);
        let source = DiskFileSource::new(dir.path(), ClusterItems::wazuh_default()).unwrap();
        group.bench_with_input(BenchmarkId::new("cold", files), &files, |b, _| {
            b.iter(|| {
                let mut table = MetadataTable::new();
                let report = rt
                    .block_on(table.refresh(&source, RefreshMode::Incremental))
                    .unwrap();
                assert_eq!(report.hashed, files);
                black_box(table)
            })
        });
        let mut table = MetadataTable::new();
        rt.block_on(table.refresh(&source, RefreshMode::Incremental))
            .unwrap();
        group.bench_with_input(BenchmarkId::new("warm", files), &files, |b, _| {
            b.iter(|| {
                let report = rt
                    .block_on(table.refresh(&source, RefreshMode::Incremental))
                    .unwrap();
                assert_eq!(report.hashed, 0);
                black_box(report)
            })
        });
        print_ratios(&rt, &source, files);
    }
    group.finish();
}

/// One timed cold and warm check, as a share of Python's 50k-file check.
fn print_ratios(rt: &tokio::runtime::Runtime, source: &DiskFileSource, files: usize) {
    let mut table = MetadataTable::new();
    let start = Instant::now();
    rt.block_on(table.refresh(source, RefreshMode::Incremental))
        .unwrap();
    let cold = start.elapsed().as_secs_f64();
    let start = Instant::now();
    rt.block_on(table.refresh(source, RefreshMode::Incremental))
        .unwrap();
    let warm = start.elapsed().as_secs_f64();
    let python = PYTHON_50K_SECS * files as f64 / 50_033.0;
    println!(
        "integrity check of {files} files: cold {:.1} ms ({:.2}% of Python's {python:.1} s), warm {:.1} ms ({:.3}%)",
        cold * 1e3,
        100.0 * cold / python,
        warm * 1e3,
        100.0 * warm / python
    );
}

fn table(files: usize, changed_every: usize) -> FileTable {
    (0..files)
        .map(|i| {
            let content = if changed_every > 0 && i % changed_every == 0 {
                format!("changed {i}")
            } else {
                format!("{i}")
            };
            let meta = FileMetadata {
                mod_time: 1_700_000_000.0 + i as f64,
                cluster_item_key: "etc/shared/".into(),
                merged: false,
                merge_type: None,
                merge_name: None,
                hash: Blake2bHex::of(content.as_bytes()),
            };
            (format!("etc/shared/group{:04}/file{i}.conf", i / 100), meta)
        })
        .collect()
}

fn comparison(c: &mut Criterion) {
    let items = ClusterItems::wazuh_default();
    let mut group = c.benchmark_group("integrity_compare");
    for files in SIZES {
        let master = table(files, 0);
        let same = master.clone();
        let worker = table(files, 100);
        group.bench_with_input(BenchmarkId::new("identical", files), &files, |b, _| {
            b.iter(|| black_box(compare(&master, &same, &items).unwrap()))
        });
        group.bench_with_input(BenchmarkId::new("1pct_differ", files), &files, |b, _| {
            b.iter(|| black_box(compare(&master, &worker, &items).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, metadata, comparison);
criterion_main!(benches);
