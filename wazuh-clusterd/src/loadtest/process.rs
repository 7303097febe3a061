//! Resident memory and CPU time of the rig's processes, read from `/proc` (Linux): `VmRSS`,
//! `RssAnon`, `RssFile` and `RssShmem` of `/proc/<pid>/status` sampled every second,
//! `utime + stime` of `/proc/<pid>/stat` at the start and end of each phase.
//!
//! RSS is split because it counts the pages of mapped files too: the master reads its SQLite
//! database through a memory map, so the touched pages of `cluster.db` are in its RSS, where
//! Wazuh keeps agent data in another process (`wazuh-db`) and its published memory figure is
//! the cluster process alone. The anonymous part (heap, stacks, SQLite's page caches) is the
//! like-with-like figure.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux architecture
/// the daemon builds for).
const TICKS_PER_SECOND: f64 = 100.0;
/// Time between two memory samples.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Resident memory of one process at one moment, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resident {
    /// `VmRSS`: every resident page.
    pub total: u64,
    /// `RssAnon`: anonymous pages (heap, stacks, SQLite's page caches).
    pub anon: u64,
    /// `RssFile + RssShmem`: pages of mapped files (the binary, libraries, the database's
    /// memory map and its WAL index).
    pub file: u64,
}

/// Resident memory of `pid`, `None` once it is gone.
pub fn resident(pid: u32) -> Option<Resident> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
        Some(kb * 1024)
    };
    Some(Resident {
        total: field("VmRSS:")?,
        anon: field("RssAnon:")?,
        file: field("RssFile:")? + field("RssShmem:")?,
    })
}

/// CPU seconds (user + system) `pid` used so far, `None` once it is gone.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let after_name = stat.rsplit_once(')')?.1;
    let mut fields = after_name.split_whitespace();
    // Fields 14 and 15 of the line: the 12th and 13th after the name.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// The memory samples and CPU readings of one process in one phase.
#[derive(Debug, Clone, Default)]
struct ProcessPhase {
    rss_sum: f64,
    anon_sum: f64,
    file_sum: f64,
    rss_samples: u64,
    rss_max: u64,
    anon_max: u64,
    cpu_start: Option<f64>,
    cpu_end: Option<f64>,
}

/// What one group of processes (the master, or every worker) used in a phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Usage {
    /// Mean resident memory over the phase's samples (every worker's samples together for the
    /// workers), MB (10^6 bytes).
    pub rss_mean_mb: f64,
    /// Largest resident memory sampled, MB.
    pub rss_max_mb: f64,
    /// Mean of the anonymous part of the resident memory (`RssAnon`), MB.
    pub rss_anon_mean_mb: f64,
    /// Largest anonymous part sampled, MB.
    pub rss_anon_max_mb: f64,
    /// Mean of the file-backed part (`RssFile + RssShmem`), MB.
    pub rss_file_mean_mb: f64,
    /// CPU seconds used per minute of the phase, mean over the group's processes.
    pub cpu_seconds_per_minute: f64,
    /// CPU seconds used per minute by the busiest process of the group.
    pub cpu_seconds_per_minute_max: f64,
}

struct Shared {
    pids: Vec<u32>,
    phases: Mutex<Vec<Vec<ProcessPhase>>>,
    stop: AtomicBool,
}

/// Samples the memory of a fixed set of processes every second in a thread of its own, and
/// their CPU time when a phase begins or ends.
pub struct Sampler {
    shared: Arc<Shared>,
    starts: Vec<Instant>,
    ends: Vec<Instant>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling `pids` (phase 0 begins now).
    pub fn start(pids: Vec<u32>) -> Self {
        let shared = Arc::new(Shared {
            phases: Mutex::new(Vec::new()),
            pids,
            stop: AtomicBool::new(false),
        });
        let mut sampler = Self {
            shared: Arc::clone(&shared),
            starts: Vec::new(),
            ends: Vec::new(),
            thread: None,
        };
        sampler.begin_phase();
        sampler.thread = Some(std::thread::spawn(move || {
            while !shared.stop.load(Ordering::Relaxed) {
                let rss: Vec<Option<Resident>> = shared.pids.iter().map(|p| resident(*p)).collect();
                if let Some(phase) = shared.phases.lock().expect("sampler lock").last_mut() {
                    for (process, rss) in phase.iter_mut().zip(rss) {
                        if let Some(rss) = rss {
                            process.rss_sum += rss.total as f64;
                            process.anon_sum += rss.anon as f64;
                            process.file_sum += rss.file as f64;
                            process.rss_samples += 1;
                            process.rss_max = process.rss_max.max(rss.total);
                            process.anon_max = process.anon_max.max(rss.anon);
                        }
                    }
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        }));
        sampler
    }

    fn read_cpu(&self) -> Vec<Option<f64>> {
        self.shared.pids.iter().map(|p| cpu_seconds(*p)).collect()
    }

    /// Ends the current phase (if any) and begins the next one.
    pub fn begin_phase(&mut self) {
        let cpu = self.read_cpu();
        let now = Instant::now();
        let mut phases = self.shared.phases.lock().expect("sampler lock");
        if let Some(current) = phases.last_mut() {
            for (process, cpu) in current.iter_mut().zip(&cpu) {
                process.cpu_end = *cpu;
            }
            self.ends.push(now);
        }
        phases.push(
            cpu.iter()
                .map(|cpu| ProcessPhase {
                    cpu_start: *cpu,
                    ..ProcessPhase::default()
                })
                .collect(),
        );
        self.starts.push(now);
    }

    /// Ends the last phase, stops the thread and returns, per phase, the usage of the processes
    /// at `groups` (indexes into the pids, e.g. `[[0], [1, 2, 3]]` for master and workers).
    pub fn finish(mut self, groups: &[Vec<usize>]) -> Vec<Vec<Usage>> {
        let cpu = self.read_cpu();
        self.ends.push(Instant::now());
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let mut phases = self.shared.phases.lock().expect("sampler lock");
        if let Some(current) = phases.last_mut() {
            for (process, cpu) in current.iter_mut().zip(&cpu) {
                process.cpu_end = *cpu;
            }
        }
        phases
            .iter()
            .zip(self.starts.iter().zip(&self.ends))
            .map(|(phase, (start, end))| {
                let minutes = end.duration_since(*start).as_secs_f64() / 60.0;
                groups
                    .iter()
                    .map(|group| usage(group.iter().map(|i| &phase[*i]), minutes))
                    .collect()
            })
            .collect()
    }
}

fn usage<'a>(processes: impl Iterator<Item = &'a ProcessPhase>, minutes: f64) -> Usage {
    let (mut rss_sum, mut anon_sum, mut file_sum) = (0.0, 0.0, 0.0);
    let (mut samples, mut rss_max, mut anon_max) = (0u64, 0u64, 0u64);
    let mut cpu = Vec::new();
    for process in processes {
        rss_sum += process.rss_sum;
        anon_sum += process.anon_sum;
        file_sum += process.file_sum;
        samples += process.rss_samples;
        rss_max = rss_max.max(process.rss_max);
        anon_max = anon_max.max(process.anon_max);
        if let (Some(start), Some(end)) = (process.cpu_start, process.cpu_end) {
            cpu.push((end - start) / minutes.max(1e-9));
        }
    }
    const MB: f64 = 1e6;
    let mean_mb = |sum: f64| {
        if samples == 0 {
            0.0
        } else {
            sum / samples as f64 / MB
        }
    };
    Usage {
        rss_mean_mb: mean_mb(rss_sum),
        rss_max_mb: rss_max as f64 / MB,
        rss_anon_mean_mb: mean_mb(anon_sum),
        rss_anon_max_mb: anon_max as f64 / MB,
        rss_file_mean_mb: mean_mb(file_sum),
        cpu_seconds_per_minute: if cpu.is_empty() {
            0.0
        } else {
            cpu.iter().sum::<f64>() / cpu.len() as f64
        },
        cpu_seconds_per_minute_max: cpu.iter().copied().fold(0.0, f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_cpu_time() {
        let pid = std::process::id();
        let rss = resident(pid).unwrap();
        assert!(rss.total > 100_000);
        assert!(rss.anon > 0 && rss.file > 0);
        assert_eq!(rss.anon + rss.file, rss.total, "{rss:?}");
        let start = cpu_seconds(pid).unwrap();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_seconds(pid).unwrap() >= start);
        assert!(resident(u32::MAX).is_none());
    }
}
