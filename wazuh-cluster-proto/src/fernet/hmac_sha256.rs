//! HMAC-SHA256 (RFC 2104) over `sha2`'s raw compression function, so that token building can
//! hash each 64-byte block of ciphertext right after encrypting it (see `cbc_chain`). Only the
//! signing side uses it; verification keeps the `hmac` crate. Tested against the `hmac` crate.

use sha2::block_api::compress256;

/// SHA-256 block size.
pub(crate) const SHA_BLOCK: usize = 64;

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The HMAC key as two SHA-256 states: after the `key ^ ipad` block and after `key ^ opad`.
#[derive(Clone)]
pub(crate) struct MacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl MacKey {
    /// Precomputes the states for a key of at most 64 bytes (Fernet's is 16).
    pub(crate) fn new(key: &[u8; 16]) -> Self {
        let mut padded = [0u8; SHA_BLOCK];
        padded[..key.len()].copy_from_slice(key);
        let state_after = |pad: u8| {
            let mut state = SHA256_IV;
            compress256(&mut state, &[padded.map(|b| b ^ pad)]);
            state
        };
        Self {
            inner: state_after(0x36),
            outer: state_after(0x5c),
        }
    }

    /// The inner hash state before any message byte.
    pub(crate) fn start(&self) -> [u32; 8] {
        self.inner
    }

    /// The tag, given the inner state after the message's whole blocks, the message's last
    /// `tail` bytes (fewer than 64) and the message length in bytes.
    pub(crate) fn finish(&self, mut state: [u32; 8], tail: &[u8], message_len: usize) -> [u8; 32] {
        debug_assert!(tail.len() < SHA_BLOCK);
        let digest = {
            let bits = ((SHA_BLOCK + message_len) as u64) * 8;
            pad_and_compress(&mut state, tail, bits);
            to_bytes(&state)
        };
        let mut outer = self.outer;
        pad_and_compress(&mut outer, &digest, ((SHA_BLOCK + 32) as u64) * 8);
        to_bytes(&outer)
    }
}

/// Compresses `tail`, the 0x80 byte, zeros and the bit length: SHA-256's final block(s).
fn pad_and_compress(state: &mut [u32; 8], tail: &[u8], bits: u64) {
    let mut blocks = [[0u8; SHA_BLOCK]; 2];
    let count = if tail.len() + 9 <= SHA_BLOCK { 1 } else { 2 };
    let flat = blocks.as_flattened_mut();
    flat[..tail.len()].copy_from_slice(tail);
    flat[tail.len()] = 0x80;
    flat[count * SHA_BLOCK - 8..count * SHA_BLOCK].copy_from_slice(&bits.to_be_bytes());
    compress256(state, &blocks[..count]);
}

fn to_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;

    use super::*;

    #[test]
    fn equals_the_hmac_crate_at_every_tail_length() {
        let key = *b"0123456789abcdef";
        let mac_key = MacKey::new(&key);
        let message: Vec<u8> = (0..300u32).map(|i| (i * 13 + 1) as u8).collect();
        for len in 0..message.len() {
            let data = &message[..len];
            let whole = len / SHA_BLOCK * SHA_BLOCK;
            let mut state = mac_key.start();
            let blocks: Vec<[u8; 64]> = data[..whole]
                .chunks_exact(SHA_BLOCK)
                .map(|c| c.try_into().unwrap())
                .collect();
            compress256(&mut state, &blocks);
            let ours = mac_key.finish(state, &data[whole..], len);
            let mut theirs = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
            theirs.update(data);
            assert_eq!(
                &ours[..],
                &theirs.finalize().into_bytes()[..],
                "{len} bytes"
            );
        }
    }
}
