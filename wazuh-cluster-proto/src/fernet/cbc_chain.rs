//! AES-128-CBC encryption of whole blocks in place, in pieces, carrying the chaining value from
//! one piece to the next, stitched with the SHA-256 compression of the ciphertext for the HMAC.
//!
//! The loop runs inside the cipher's backend closure, so the AES rounds (AES-NI where the CPU has
//! it) are inlined into it and the chaining value stays in a register. CBC encryption is one
//! serial chain of block latencies, and so is SHA-256: after every four AES blocks the loop
//! compresses one 64-byte block of already encrypted bytes, which does not depend on the AES
//! chain, so the CPU runs both chains side by side (OpenSSL's "stitched" AES-CBC + SHA idea).

use aes::Aes128;
use aes::cipher::BlockSizeUser;
use aes::cipher::consts::U16;
use aes::cipher::inout::InOut;
use aes::cipher::{Block, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt};

use sha2::block_api::compress256;

use super::BLOCK;
use super::hmac_sha256::SHA_BLOCK;

/// A CBC encryption in progress: the key and the last ciphertext block (the IV at the start).
pub(crate) struct CbcChain<'a> {
    cipher: &'a Aes128,
    last: [u8; BLOCK],
}

impl<'a> CbcChain<'a> {
    /// Starts a CBC encryption with `iv`.
    pub(crate) fn new(cipher: &'a Aes128, iv: [u8; BLOCK]) -> Self {
        Self { cipher, last: iv }
    }

    /// Encrypts `buf[from..]` in place (a whole number of blocks; the caller pads) and feeds
    /// every whole 64-byte block of `buf[*mac_pos..]` to the SHA-256 `state`, advancing
    /// `*mac_pos`; bytes before `from` are final already (the token prefix, earlier pieces).
    /// On return fewer than 64 bytes of `buf` after `*mac_pos` are left unhashed.
    pub(crate) fn encrypt_and_hash(
        &mut self,
        buf: &mut [u8],
        from: usize,
        state: &mut [u32; 8],
        mac_pos: &mut usize,
    ) {
        debug_assert!(
            (buf.len() - from).is_multiple_of(BLOCK),
            "whole blocks only"
        );
        debug_assert!(*mac_pos <= from);
        self.cipher.encrypt_with_backend(Stitched {
            last: &mut self.last,
            buf,
            from,
            state,
            mac_pos,
        });
    }
}

/// The closure handed to the backend: one pass of CBC over `buf[from..]`, with SHA-256 behind.
struct Stitched<'a> {
    last: &'a mut [u8; BLOCK],
    buf: &'a mut [u8],
    from: usize,
    state: &'a mut [u32; 8],
    mac_pos: &'a mut usize,
}

impl BlockSizeUser for Stitched<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for Stitched<'_> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let Stitched {
            last,
            buf,
            from,
            state,
            mac_pos,
        } = self;
        let mut chain: Block<B> = (*last).into();
        let mut at = from;
        while at < buf.len() {
            let group_end = (at + SHA_BLOCK).min(buf.len());
            for block in buf[at..group_end].chunks_exact_mut(BLOCK) {
                for (c, p) in chain.iter_mut().zip(block.iter()) {
                    *c ^= *p;
                }
                backend.encrypt_block(InOut::from(&mut chain));
                block.copy_from_slice(&chain);
            }
            at = group_end;
            if *mac_pos + SHA_BLOCK <= at {
                hash_block(state, buf, mac_pos);
            }
        }
        *last = chain.into();
        while *mac_pos + SHA_BLOCK <= buf.len() {
            hash_block(state, buf, mac_pos);
        }
    }
}

/// Compresses the 64 bytes of `buf` at `*mac_pos` and moves past them.
#[inline(always)]
fn hash_block(state: &mut [u32; 8], buf: &[u8], mac_pos: &mut usize) {
    let block: &[u8; SHA_BLOCK] = buf[*mac_pos..*mac_pos + SHA_BLOCK]
        .try_into()
        .expect("64 bytes");
    compress256(state, std::slice::from_ref(block));
    *mac_pos += SHA_BLOCK;
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::block_padding::NoPadding;
    use aes::cipher::{BlockModeEncrypt, KeyInit, KeyIvInit};

    #[test]
    fn equals_the_cbc_crate_and_sha256_across_piece_boundaries() {
        let key = [7u8; 16];
        let iv = [9u8; 16];
        let plain: Vec<u8> = (0..400u32).map(|i| (i * 31) as u8).collect();
        let mut expected = plain[..25].to_vec();
        expected.extend(
            cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into())
                .encrypt_padded_vec::<NoPadding>(&plain[25..25 + 368]),
        );
        let cipher = Aes128::new(&key.into());
        let mut chain = CbcChain::new(&cipher, iv);
        let mut buf = plain[..25 + 368].to_vec();
        let (mut state, mut mac_pos) = ([0u32; 8], 0);
        for (from, to) in [(25, 25 + 48), (73, 73), (73, 73 + 160), (233, 393)] {
            chain.encrypt_and_hash(&mut buf[..to], from, &mut state, &mut mac_pos);
            assert!(to - mac_pos < SHA_BLOCK);
        }
        assert_eq!(buf, expected);
        let mut reference = [0u32; 8];
        let blocks: Vec<[u8; 64]> = expected[..mac_pos]
            .chunks_exact(64)
            .map(|c| c.try_into().unwrap())
            .collect();
        compress256(&mut reference, &blocks);
        assert_eq!((state, mac_pos), (reference, 384));
    }
}
