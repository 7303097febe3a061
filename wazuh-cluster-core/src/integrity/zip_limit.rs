//! [`ZipLimit`]: the adaptive size limit of the master's sync container (Wazuh's
//! `current_zip_limit`), so a backlog too big for one transfer syncs over several rounds.

use std::time::Duration;

/// The bounds and tuning of the limit, with Wazuh's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZipLimitConfig {
    /// The largest limit and the starting one (`max_zip_size`, 1 GiB).
    pub max_zip_size: u64,
    /// The smallest limit after a cancelled send (`min_zip_size`, 30 MiB).
    pub min_zip_size: u64,
    /// The fraction shrunk after a cancel and the margin of a fast send (`zip_limit_tolerance`, 0.2).
    pub tolerance: f64,
    /// How long the receiver waits for a file (`timeout_receiving_file`, 120 s).
    pub timeout_receiving_file: Duration,
}

impl Default for ZipLimitConfig {
    fn default() -> Self {
        ZipLimitConfig {
            max_zip_size: 1 << 30,
            min_zip_size: 30 << 20,
            tolerance: 0.2,
            timeout_receiving_file: Duration::from_secs(120),
        }
    }
}

/// The current container limit of one master-to-worker link.
#[derive(Debug, Clone, PartialEq)]
pub struct ZipLimit {
    config: ZipLimitConfig,
    current: u64,
}

impl Default for ZipLimit {
    fn default() -> Self {
        Self::new(ZipLimitConfig::default())
    }
}

impl ZipLimit {
    /// Starts at `max_zip_size`.
    pub fn new(config: ZipLimitConfig) -> Self {
        ZipLimit {
            current: config.max_zip_size,
            config,
        }
    }

    /// The limit for the next container, in bytes.
    pub fn current(&self) -> u64 {
        self.current
    }

    /// After a send that was cancelled or timed out having sent `sent_bytes`:
    /// `max(min_zip_size, sent_bytes * (1 - tolerance))`.
    pub fn after_cancelled(&mut self, sent_bytes: u64) {
        let shrunk = (sent_bytes as f64 * (1.0 - self.config.tolerance)) as u64;
        self.current = shrunk
            .max(self.config.min_zip_size)
            .min(self.config.max_zip_size);
    }

    /// After a completed send that took `elapsed`: if it took less than
    /// `timeout_receiving_file * (1 - tolerance)`, grow to `min(max_zip_size, limit / (1 - tolerance))`.
    pub fn after_sent(&mut self, elapsed: Duration) {
        let fast = self
            .config
            .timeout_receiving_file
            .mul_f64(1.0 - self.config.tolerance);
        if self.current < self.config.max_zip_size && elapsed < fast {
            let grown = (self.current as f64 / (1.0 - self.config.tolerance)) as u64;
            self.current = grown.min(self.config.max_zip_size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn starts_at_max_shrinks_on_cancel_and_grows_back_after_fast_sends() {
        let mut limit = ZipLimit::default();
        assert_eq!(limit.current(), 1024 * MIB);
        limit.after_cancelled(500 * MIB);
        assert_eq!(limit.current(), 400 * MIB);
        limit.after_cancelled(10 * MIB);
        assert_eq!(limit.current(), 30 * MIB, "never below min_zip_size");
        limit.after_sent(Duration::from_secs(96));
        assert_eq!(
            limit.current(),
            30 * MIB,
            "96 s is not faster than 0.8 * 120 s"
        );
        limit.after_sent(Duration::from_secs(95));
        assert_eq!(limit.current(), (30 * MIB) * 5 / 4);
        for _ in 0..50 {
            limit.after_sent(Duration::from_secs(1));
        }
        assert_eq!(limit.current(), 1024 * MIB, "never above max_zip_size");
        limit.after_cancelled(2048 * MIB);
        assert_eq!(limit.current(), 1024 * MIB);
    }
}
