//! BLAKE2b-512 as hex, Wazuh's file `hash`.

use blake2::{Blake2b512, Digest};

/// BLAKE2b-512 of `data` as 128 lowercase hex digits (Python's `hashlib.blake2b().hexdigest()`).
pub fn blake2b_hex(data: &[u8]) -> String {
    hex_lower(&Blake2b512::digest(data))
}

/// Lowercase hex of a digest.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_hashlib() {
        // python3 -c 'import hashlib; print(hashlib.blake2b(b"abc").hexdigest())'
        assert_eq!(
            blake2b_hex(b"abc"),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        );
    }
}
