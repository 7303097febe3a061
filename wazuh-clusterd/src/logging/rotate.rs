//! Wazuh's daily rotation of `cluster.log` (`<log_rotation>daily</log_rotation>`).
//!
//! The first line of a new local day first moves the file to
//! `logs/cluster/YYYY/Mon/cluster-DD.log` (the day it holds; `Mon` as `Oct`), a fresh
//! `cluster.log` takes the line, and a background thread compresses the day's file to
//! `cluster-DD.log.gz`. A second archive of one day (a restart with an old file) is
//! `cluster-DD-1.log.gz`, and so on. The day of an existing file at start is its modification
//! day, so a daemon restarted after midnight rotates yesterday's file too.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};

use super::format::LogClock;

/// When the next rotation is due.
pub struct DailyRotation {
    clock: Arc<dyn LogClock>,
    /// The local day the current file holds.
    day: NaiveDate,
}

impl std::fmt::Debug for DailyRotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DailyRotation")
            .field("day", &self.day)
            .finish_non_exhaustive()
    }
}

impl DailyRotation {
    /// The rotation of the file `log`, whose local days `clock` tells.
    pub fn new(log: &Path, clock: Arc<dyn LogClock>) -> Self {
        let today = clock.now().date();
        let day = std::fs::metadata(log)
            .and_then(|m| m.modified())
            .ok()
            .map(|modified| chrono::DateTime::<chrono::Local>::from(modified).date_naive())
            .filter(|day| *day < today)
            .unwrap_or(today);
        Self { clock, day }
    }

    /// The day to archive when a new day began since the last call, else `None`.
    pub fn due(&mut self) -> Option<NaiveDate> {
        let today = self.clock.now().date();
        (today > self.day).then(|| std::mem::replace(&mut self.day, today))
    }
}

/// `logs/cluster/YYYY/Mon/cluster-DD` beside `log`, for `day`.
pub fn archive_stem(log: &Path, day: NaiveDate) -> PathBuf {
    let logs = log.parent().unwrap_or(Path::new("."));
    logs.join("cluster")
        .join(day.year().to_string())
        .join(day.format("%b").to_string())
        .join(format!("cluster-{:02}", day.day()))
}

/// Moves `log` to its archive name for `day` (a free one), then compresses it in a background
/// thread. The caller reopens `log` afterwards.
pub fn archive(log: &Path, day: NaiveDate) -> io::Result<()> {
    let stem = archive_stem(log, day);
    if let Some(dir) = stem.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let base = stem.file_name().unwrap_or_default().to_string_lossy();
    let named = |suffix: String| stem.with_file_name(format!("{base}{suffix}.log"));
    let mut plain = named(String::new());
    let mut n = 0;
    while plain.exists() || plain.with_extension("log.gz").exists() {
        n += 1;
        plain = named(format!("-{n}"));
    }
    std::fs::rename(log, &plain)?;
    std::thread::Builder::new()
        .name("log-compress".into())
        .spawn(move || {
            if let Err(error) = compress(&plain) {
                eprintln!("ERROR: cannot compress {}: {error}", plain.display());
            }
        })?;
    Ok(())
}

/// Writes `plain.gz` from `plain` (through a `.part` file), then removes `plain`.
fn compress(plain: &Path) -> io::Result<()> {
    let gz = plain.with_extension("log.gz");
    let partial = plain.with_extension("log.gz.part");
    let mut input = File::open(plain)?;
    let mut encoder =
        flate2::write::GzEncoder::new(File::create(&partial)?, flate2::Compression::default());
    io::copy(&mut input, &mut encoder)?;
    encoder.finish()?.sync_all()?;
    std::fs::rename(&partial, &gz)?;
    std::fs::remove_file(plain)
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::{Read, Write};
    use std::sync::Mutex;
    use std::time::Duration;

    use chrono::NaiveDateTime;

    use super::super::ReopenableLog;
    use super::*;

    struct SetClock(Mutex<NaiveDateTime>);

    impl LogClock for SetClock {
        fn now(&self) -> NaiveDateTime {
            *self.0.lock().unwrap()
        }
    }

    fn append(path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).open(path)
    }

    #[test]
    fn a_new_day_moves_the_file_to_the_wazuh_archive_and_compresses_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        let path = dir.path().join("logs/cluster.log");
        let at = |d: u32, time: &str| {
            NaiveDateTime::parse_from_str(&format!("2024-10-{d:02} {time}"), "%Y-%m-%d %H:%M:%S")
                .unwrap()
        };
        let clock = Arc::new(SetClock(Mutex::new(at(1, "23:59:59"))));
        let log = ReopenableLog::new(&path, append).unwrap();
        log.rotate_daily(Some(DailyRotation::new(&path, clock.clone())));
        (&log).write_all(b"first day\n").unwrap();
        *clock.0.lock().unwrap() = at(2, "00:00:01");
        (&log).write_all(b"second day\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second day\n");
        let gz = dir.path().join("logs/cluster/2024/Oct/cluster-01.log.gz");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !gz.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(&gz).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "first day\n");
        assert!(!gz.with_extension("").exists(), "the plain archive stays");
    }

    #[test]
    fn archives_are_named_as_wazuh_names_them() {
        let log = Path::new("/var/ossec/logs/cluster.log");
        assert_eq!(
            archive_stem(log, NaiveDate::from_ymd_opt(2025, 1, 9).unwrap()),
            Path::new("/var/ossec/logs/cluster/2025/Jan/cluster-09")
        );
    }
}
