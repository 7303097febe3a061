//! Building a Fernet token in one streamed pass: each piece of plaintext is padded (the last),
//! CBC-encrypted with the HMAC computed alongside (`cbc_chain`) and base64-encoded while it is
//! still in the L1 cache; the base64 text goes straight into the token buffer, so no raw token is
//! ever held whole.

use aes::Aes128;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;

use super::cbc_chain::CbcChain;
use super::hmac_sha256::{MacKey, SHA_BLOCK};
use super::{BLOCK, MAC_LEN, PREFIX_LEN, VERSION};

/// Plaintext bytes handled per step: small enough to stay in L1, large enough that per-step
/// costs vanish. A multiple of the AES block.
pub(crate) const PIECE: usize = 4096;
const _: () = assert!(PIECE.is_multiple_of(BLOCK));

/// The raw token prefix: version, timestamp, IV.
pub(crate) fn prefix(unix_time: u64, iv: &[u8; BLOCK]) -> [u8; PREFIX_LEN] {
    let mut out = [0u8; PREFIX_LEN];
    out[0] = VERSION;
    out[1..9].copy_from_slice(&unix_time.to_be_bytes());
    out[9..].copy_from_slice(iv);
    out
}

/// Copies the next piece of `rest` to the start of `dst` (room for `PIECE` bytes, or for the
/// padded rest when that is shorter) and pads it when it is the last one (PKCS7: a whole
/// padding block when the plaintext ends on a block boundary). Returns the bytes written (a
/// multiple of 16) and the bytes of `rest` consumed.
pub(crate) fn next_piece(rest: &[u8], dst: &mut [u8]) -> (usize, usize) {
    if rest.len() > PIECE {
        dst[..PIECE].copy_from_slice(&rest[..PIECE]);
        return (PIECE, PIECE);
    }
    let padded = (rest.len() / BLOCK + 1) * BLOCK;
    dst[..rest.len()].copy_from_slice(rest);
    let pad = (padded - rest.len()) as u8;
    dst[rest.len()..padded].fill(pad);
    (padded, rest.len())
}

/// The raw token (before base64) in one pre-sized buffer, encrypted in place piece by piece.
pub(crate) fn seal_raw(
    cipher: &Aes128,
    mac_key: &MacKey,
    plaintext: &[u8],
    unix_time: u64,
    iv: [u8; BLOCK],
    raw_len: usize,
) -> Vec<u8> {
    let mut raw = vec![0u8; raw_len];
    let signed_len = raw_len - MAC_LEN;
    raw[..PREFIX_LEN].copy_from_slice(&prefix(unix_time, &iv));
    let mut chain = CbcChain::new(cipher, iv);
    let (mut state, mut mac_pos) = (mac_key.start(), 0);
    let mut at = PREFIX_LEN;
    let mut rest = plaintext;
    while at < signed_len {
        let (len, used) = next_piece(rest, &mut raw[at..signed_len]);
        rest = &rest[used..];
        chain.encrypt_and_hash(&mut raw[..at + len], at, &mut state, &mut mac_pos);
        at += len;
    }
    let tag = mac_key.finish(state, &raw[mac_pos..signed_len], signed_len);
    raw[signed_len..].copy_from_slice(&tag);
    raw
}

/// The base64 token for `plaintext`, as `Fernet::encrypt_with_iv` returns it.
pub(crate) fn seal_base64(
    cipher: &Aes128,
    mac_key: &MacKey,
    plaintext: &[u8],
    unix_time: u64,
    iv: [u8; BLOCK],
    token_len: usize,
) -> Vec<u8> {
    let signed_len = super::Fernet::raw_token_len(plaintext.len()) - MAC_LEN;
    let mut token = vec![0u8; token_len];
    let mut written = 0;
    let mut chain = CbcChain::new(cipher, iv);
    let mut state = mac_key.start();
    // `window[..held]` holds the raw token from some offset on: bytes not yet hashed start at
    // `mac_pos` (fewer than 64 of them after a step), bytes not yet base64-encoded at `b64_pos`
    // (fewer than 3), then the prefix or the piece being added.
    let mut window = [0u8; SHA_BLOCK + PREFIX_LEN + PIECE + BLOCK + MAC_LEN];
    window[..PREFIX_LEN].copy_from_slice(&prefix(unix_time, &iv));
    let (mut held, mut mac_pos, mut b64_pos) = (PREFIX_LEN, 0, 0);
    let mut rest = plaintext;
    loop {
        let last = rest.len() <= PIECE;
        let (len, used) = next_piece(rest, &mut window[held..]);
        rest = &rest[used..];
        chain.encrypt_and_hash(&mut window[..held + len], held, &mut state, &mut mac_pos);
        held += len;
        if last {
            break;
        }
        let whole = b64_pos + (held - b64_pos) / 3 * 3;
        written += encode_into(&window[b64_pos..whole], &mut token[written..]);
        b64_pos = whole;
        let keep = mac_pos.min(b64_pos);
        window.copy_within(keep..held, 0);
        (held, mac_pos, b64_pos) = (held - keep, mac_pos - keep, b64_pos - keep);
    }
    let tag = mac_key.finish(state, &window[mac_pos..held], signed_len);
    window[held..held + MAC_LEN].copy_from_slice(&tag);
    held += MAC_LEN;
    written += encode_into(&window[b64_pos..held], &mut token[written..]);
    debug_assert_eq!(written, token_len);
    token
}

/// Base64-encodes `raw` (with padding, which only the final call can need) into `out`.
fn encode_into(raw: &[u8], out: &mut [u8]) -> usize {
    URL_SAFE
        .encode_slice(raw, out)
        .expect("the token buffer is sized by Fernet::token_len")
}

#[cfg(test)]
mod tests {
    use aes::cipher::block_padding::Pkcs7;
    use aes::cipher::{BlockModeEncrypt, KeyInit, KeyIvInit};
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::*;
    use crate::fernet::Fernet;

    /// The token built the plain way: the `cbc` crate over the whole plaintext, one HMAC call,
    /// one base64 call.
    fn reference_token(key: &[u8; 32], plaintext: &[u8], unix_time: u64, iv: [u8; 16]) -> String {
        let mut raw = prefix(unix_time, &iv).to_vec();
        raw.extend(
            cbc::Encryptor::<Aes128>::new(
                &<[u8; 16]>::try_from(&key[16..]).unwrap().into(),
                &iv.into(),
            )
            .encrypt_padded_vec::<Pkcs7>(plaintext),
        );
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key[..16]).unwrap();
        mac.update(&raw);
        raw.extend(mac.finalize().into_bytes());
        URL_SAFE.encode(raw)
    }

    #[test]
    fn streamed_tokens_equal_the_plain_construction_at_piece_boundaries() {
        let key = *b"abcdefghijklmnopqrstuvwxyz012345";
        let fernet = Fernet::from_cluster_key(std::str::from_utf8(&key).unwrap()).unwrap();
        let iv = [0x5a; 16];
        for len in [
            0, 1, 15, 16, 17, 4079, 4080, 4095, 4096, 4097, 8192, 8193, 12_345,
        ] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let expected = reference_token(&key, &plaintext, 42, iv);
            let token = fernet.encrypt_with_iv(&plaintext, 42, iv);
            assert_eq!(
                std::str::from_utf8(&token).unwrap(),
                expected,
                "{len} bytes"
            );
            let raw = fernet.seal_raw(&plaintext, 42, iv);
            assert_eq!(URL_SAFE.encode(&raw), expected, "raw, {len} bytes");
            assert_eq!(fernet.decrypt(&token).unwrap(), plaintext, "{len} bytes");
        }
    }
}
