//! Putting our throughput next to Python `cryptography` and OpenSSL's one-core limit, as a ratio
//! table printed at the end of a bench run.
//!
//! Our figures come from a plain best-of-N loop (criterion's own numbers are not readable from
//! code); Python's from `benches/python/fernet_speed.py`; OpenSSL's from `openssl speed -mr`,
//! whose `+F:<n>:<alg>:<bytes per second>` line gives the rate. A missing `python3`, Python
//! `cryptography` or `openssl` leaves its column empty with a note saying why.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Plaintext sizes every Fernet and frame benchmark runs at: 1 KiB, 64 KiB, 1 MiB, 5 MiB.
pub const SIZES: [usize; 4] = [1 << 10, 64 << 10, 1 << 20, 5 << 20];

/// True when the bench binary runs as a test (`cargo bench -- --test` or `cargo test --benches`):
/// criterion then runs each benchmark once, and the external comparison is skipped.
pub fn is_test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

/// Best throughput of `work` on `bytes` bytes, in MB/s (10^6 bytes per second): rounds of about
/// 4 MB of work each, repeated for `budget`, keeping the fastest round.
pub fn best_rate(bytes: usize, budget: Duration, mut work: impl FnMut()) -> f64 {
    let per_round = (4_000_000 / bytes.max(1)).max(1);
    let deadline = Instant::now() + budget;
    let mut best = 0.0f64;
    let mut rounds = 0;
    while rounds < 3 || Instant::now() < deadline {
        let start = Instant::now();
        for _ in 0..per_round {
            work();
        }
        let seconds = start.elapsed().as_secs_f64();
        best = best.max((per_round * bytes) as f64 / seconds / 1e6);
        rounds += 1;
    }
    best
}

/// MB/s per operation name and size, as `fernet_speed.py` prints them.
pub type Rates = HashMap<String, HashMap<usize, f64>>;

/// Runs `benches/python/fernet_speed.py` for `ops` at `sizes`; the error says what is missing.
pub fn python_rates(ops: &[&str], sizes: &[usize]) -> Result<Rates, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/fernet_speed.py");
    let mut command = Command::new("python3");
    command.arg(&script).arg("--ops").arg(ops.join(","));
    command.args(sizes.iter().map(usize::to_string));
    let output = command
        .output()
        .map_err(|e| format!("python3 could not be started ({e}); install python3"))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}; `python3 -m pip install cryptography` if it is missing",
            script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let parsed: HashMap<String, HashMap<String, f64>> = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("{} printed no JSON rates: {e}", script.display()))?;
    let mut rates = Rates::new();
    for (op, by_size) in parsed {
        let entry = rates.entry(op).or_default();
        for (size, rate) in by_size {
            let size = size
                .parse()
                .map_err(|_| format!("fernet_speed.py printed size {size:?}, not a number"))?;
            entry.insert(size, rate);
        }
    }
    Ok(rates)
}

/// OpenSSL's one-core rates at one size, in MB/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpensslLimit {
    /// `openssl speed -evp aes-128-cbc`.
    pub aes_encrypt: f64,
    /// `openssl speed -decrypt -evp aes-128-cbc`.
    pub aes_decrypt: f64,
    /// `openssl speed -hmac sha256`.
    pub hmac: f64,
}

impl OpensslLimit {
    /// AES-128-CBC encryption then HMAC-SHA256 over the result, one after the other on one
    /// core: `1 / (1/aes + 1/hmac)`.
    pub fn encrypt_and_mac(&self) -> f64 {
        serial(self.aes_encrypt, self.hmac)
    }

    /// HMAC-SHA256 verification then AES-128-CBC decryption on one core.
    pub fn verify_and_decrypt(&self) -> f64 {
        serial(self.aes_decrypt, self.hmac)
    }
}

fn serial(a: f64, b: f64) -> f64 {
    1.0 / (1.0 / a + 1.0 / b)
}

/// Measures OpenSSL at each size (one second per algorithm and size).
pub fn openssl_limits(sizes: &[usize]) -> Result<HashMap<usize, OpensslLimit>, String> {
    sizes
        .iter()
        .map(|&size| {
            let limit = OpensslLimit {
                aes_encrypt: openssl_rate(&["-evp", "aes-128-cbc"], size)?,
                aes_decrypt: openssl_rate(&["-decrypt", "-evp", "aes-128-cbc"], size)?,
                hmac: openssl_rate(&["-hmac", "sha256"], size)?,
            };
            Ok((size, limit))
        })
        .collect()
}

/// One `openssl speed -mr <args> -bytes <size> -seconds 1` run, in MB/s.
fn openssl_rate(args: &[&str], size: usize) -> Result<f64, String> {
    let output = Command::new("openssl")
        .arg("speed")
        .arg("-mr")
        .args(args)
        .args(["-bytes", &size.to_string(), "-seconds", "1"])
        .output()
        .map_err(|e| format!("openssl could not be started ({e}); install openssl"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .filter_map(|line| line.strip_prefix("+F:"))
        .filter_map(|fields| fields.rsplit(':').next()?.trim().parse::<f64>().ok())
        .next()
        .map(|bytes_per_second| bytes_per_second / 1e6)
        .ok_or_else(|| {
            format!(
                "`openssl speed -mr {}` printed no +F: line: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })
}

/// One line of the comparison table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Operation name, as `fernet_speed.py` names it.
    pub op: &'static str,
    /// Plaintext size in bytes.
    pub size: usize,
    /// Our MB/s.
    pub ours: f64,
    /// Python `cryptography`'s MB/s, when measured.
    pub python: Option<f64>,
    /// OpenSSL's one-core MB/s for the same crypto work, when measured.
    pub openssl: Option<f64>,
}

/// Prints the rows as a Markdown table with the ratios ours/openssl and ours/python.
pub fn print_table(title: &str, rows: &[Row]) {
    println!("\n{title}");
    println!("| op | size | ours MB/s | python MB/s | openssl MB/s | ours/openssl | ours/python |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {} |",
            row.op,
            size_label(row.size),
            row.ours,
            cell(row.python, 0),
            cell(row.openssl, 0),
            cell(row.openssl.map(|o| row.ours / o), 2),
            cell(row.python.map(|p| row.ours / p), 2),
        );
    }
}

fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

/// `1 KiB`, `64 KiB`, `1 MiB`, `5 MiB`, or the byte count.
pub fn size_label(size: usize) -> String {
    match size {
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 && s % (1 << 10) == 0 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

/// One operation of ours at one size, for [`report`] to time.
pub struct Work<'a> {
    /// Operation name, as `fernet_speed.py` names it.
    pub op: &'static str,
    /// Plaintext size in bytes.
    pub size: usize,
    /// Does the operation once.
    pub run: Box<dyn FnMut() + 'a>,
}

/// Times our `work` (best-of loops, `budget` per pass), OpenSSL and Python at the same sizes and
/// prints the table. Our figures are taken just before and just after OpenSSL's at each size,
/// best of the two, so that both see the same load on a shared machine. Ops named
/// `*decrypt`/`*decode` compare with OpenSSL's verify-and-decrypt rate, the others with
/// encrypt-and-MAC.
pub fn report(title: &str, mut work: Vec<Work<'_>>, budget: Duration) {
    let mut ops: Vec<&str> = work.iter().map(|w| w.op).collect();
    ops.dedup();
    let mut sizes: Vec<usize> = work.iter().map(|w| w.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut ours: HashMap<(&str, usize), f64> = HashMap::new();
    let mut openssl: Option<HashMap<usize, OpensslLimit>> = Some(HashMap::new());
    for &size in &sizes {
        let mut time_ours = |work: &mut Vec<Work<'_>>| {
            for w in work.iter_mut().filter(|w| w.size == size) {
                let rate = best_rate(size, budget, &mut w.run);
                let best = ours.entry((w.op, size)).or_insert(0.0);
                *best = best.max(rate);
            }
        };
        time_ours(&mut work);
        if let Some(limits) = openssl.as_mut() {
            match openssl_limits(&[size]) {
                Ok(limit) => {
                    limits.extend(limit);
                }
                Err(e) => {
                    println!("openssl column skipped: {e}");
                    openssl = None;
                }
            }
        }
        time_ours(&mut work);
    }
    let python = python_rates(&ops, &sizes)
        .inspect_err(|e| println!("python column skipped: {e}"))
        .ok();
    let rows: Vec<Row> = work
        .iter()
        .map(|w| Row {
            op: w.op,
            size: w.size,
            ours: ours[&(w.op, w.size)],
            python: python
                .as_ref()
                .and_then(|p| p.get(w.op)?.get(&w.size).copied()),
            openssl: openssl.as_ref().and_then(|o| {
                let limit = o.get(&w.size)?;
                Some(if w.op.ends_with("decrypt") || w.op.ends_with("decode") {
                    limit.verify_and_decrypt()
                } else {
                    limit.encrypt_and_mac()
                })
            }),
        })
        .collect();
    print_table(title, &rows);
    if let Some(openssl) = openssl {
        println!("\nopenssl one-core rates (MB/s): aes-128-cbc encrypt / decrypt, hmac-sha256");
        for size in &sizes {
            let l = openssl[size];
            println!(
                "  {:>7}: {:.0} / {:.0}, {:.0}",
                size_label(*size),
                l.aes_encrypt,
                l.aes_decrypt,
                l.hmac
            );
        }
    }
}
