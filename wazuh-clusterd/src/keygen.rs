//! `wazuh-clusterd keygen`: a fresh random cluster key from the operating system's random source.

use thiserror::Error;

use crate::config::{ClusterKey, KEY_LEN};

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Largest multiple of 62 that fits in a byte: bytes at or above it are dropped so that every
/// character is equally likely.
const UNBIASED_LIMIT: u8 = 248;

/// The operating system gave no random bytes.
#[derive(Debug, Error)]
#[error("the operating system's random source failed: {0}")]
pub struct KeygenError(getrandom::Error);

/// A new key: 32 letters and digits, uniformly drawn from the OS random source.
pub fn generate() -> Result<ClusterKey, KeygenError> {
    let mut key = String::with_capacity(KEY_LEN);
    let mut bytes = [0u8; 64];
    while key.len() < KEY_LEN {
        getrandom::fill(&mut bytes).map_err(KeygenError)?;
        key.extend(
            bytes
                .iter()
                .filter(|b| **b < UNBIASED_LIMIT)
                .map(|b| char::from(ALPHABET[usize::from(*b % 62)]))
                .take(KEY_LEN - key.len()),
        );
    }
    Ok(ClusterKey::parse(&key).expect("32 characters drawn from the alphanumeric alphabet"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_and_differ() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.as_str().len(), KEY_LEN);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
