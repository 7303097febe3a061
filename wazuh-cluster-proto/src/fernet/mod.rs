//! Fernet exactly as Wazuh uses it: the 32 ASCII characters of the cluster key are the key bytes.
//!
//! Token: `0x80 || timestamp u64 BE || IV[16] || AES-128-CBC(PKCS7(plaintext)) || HMAC-SHA256[32]`,
//! sent as url-safe base64 with `=` padding. The HMAC covers every byte before it and is checked,
//! in constant time, before anything is decrypted. Time is always passed in: this module reads no
//! clock.
//!
//! Sealing streams the token in 4 KiB pieces (`seal`), with AES-CBC and the HMAC's SHA-256
//! interleaved in one loop (`cbc_chain`, `hmac_sha256`) at about OpenSSL's one-core speed;
//! opening uses the `hmac` and `cbc` crates, so each direction checks the other in the tests.

mod cbc_chain;
mod error;
mod hmac_sha256;
mod key;
mod seal;

pub use error::FernetError;
pub use key::ClusterKeyError;

use aes::Aes128;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, InnerIvInit, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The version byte that starts every token.
const VERSION: u8 = 0x80;
/// Bytes before the ciphertext: version, timestamp, IV.
const PREFIX_LEN: usize = 1 + 8 + 16;
/// Length of the HMAC-SHA256 tag.
const MAC_LEN: usize = 32;
/// AES block size.
const BLOCK: usize = 16;
/// Fernet's tolerated clock skew for tokens from the future, in seconds.
pub const MAX_CLOCK_SKEW: u64 = 60;

/// A verified, decrypted token with what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedToken {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// The token's timestamp (unix seconds, the sender's clock).
    pub time: u64,
    /// The token's HMAC-SHA256 tag.
    pub tag: [u8; 32],
}

/// A Fernet key pair derived from a Wazuh cluster key.
#[derive(Clone)]
pub struct Fernet {
    /// Verifies tokens.
    signer: Hmac<Sha256>,
    /// Signs tokens (the same key, in the form the stitched encryption needs).
    mac_key: hmac_sha256::MacKey,
    cipher: Aes128,
}

impl std::fmt::Debug for Fernet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fernet { keys: <redacted> }")
    }
}

impl Fernet {
    /// Derives the Fernet keys from the `<cluster><key>` of `ossec.conf`.
    ///
    /// The key must be exactly 32 ASCII letters or digits, as Wazuh's `check_cluster_config`
    /// requires; the error names the length found or the first bad character.
    pub fn from_cluster_key(key: &str) -> Result<Self, ClusterKeyError> {
        let bytes = key::cluster_key_bytes(key)?;
        let signer = <Hmac<Sha256> as KeyInit>::new_from_slice(&bytes[..16])
            .expect("HMAC accepts a key of any length");
        let mac_key = hmac_sha256::MacKey::new(bytes[..16].try_into().expect("16 bytes"));
        let cipher = Aes128::new_from_slice(&bytes[16..]).expect("16 bytes is an AES-128 key");
        Ok(Self {
            signer,
            mac_key,
            cipher,
        })
    }

    /// Length of the raw (not yet base64) token for a plaintext of `plaintext_len` bytes.
    pub const fn raw_token_len(plaintext_len: usize) -> usize {
        PREFIX_LEN + (plaintext_len / BLOCK + 1) * BLOCK + MAC_LEN
    }

    /// Length of the base64 token, as sent on the wire, for a plaintext of `plaintext_len` bytes.
    pub const fn token_len(plaintext_len: usize) -> usize {
        Self::raw_token_len(plaintext_len).div_ceil(3) * 4
    }

    /// Encrypts `plaintext` with a fresh random IV; returns the base64 token.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn encrypt(&self, plaintext: &[u8], unix_time: u64) -> Vec<u8> {
        self.encrypt_with_iv(plaintext, unix_time, random_iv())
    }

    /// Encrypts `plaintext` with the given IV; returns the base64 token. For tests and test vectors:
    /// reusing an IV leaks plaintext, so real messages use [`Fernet::encrypt`].
    pub fn encrypt_with_iv(&self, plaintext: &[u8], unix_time: u64, iv: [u8; 16]) -> Vec<u8> {
        let token_len = Self::token_len(plaintext.len());
        seal::seal_base64(
            &self.cipher,
            &self.mac_key,
            plaintext,
            unix_time,
            iv,
            token_len,
        )
    }

    /// Builds the raw token (before base64) in one pre-sized buffer, encrypting in place.
    pub(crate) fn seal_raw(&self, plaintext: &[u8], unix_time: u64, iv: [u8; 16]) -> Vec<u8> {
        let raw_len = Self::raw_token_len(plaintext.len());
        seal::seal_raw(
            &self.cipher,
            &self.mac_key,
            plaintext,
            unix_time,
            iv,
            raw_len,
        )
    }

    /// Verifies and decrypts a base64 token, without any age check (as Wazuh does).
    pub fn decrypt(&self, token: &[u8]) -> Result<Vec<u8>, FernetError> {
        let raw = self.verified_raw(token)?;
        self.open_raw(raw)
    }

    /// Verifies and decrypts a base64 token that must be at most `ttl` seconds old at `now`
    /// (unix seconds), and at most 60 s in the future, as Python's `Fernet.decrypt(token, ttl)`.
    pub fn decrypt_with_ttl(
        &self,
        token: &[u8],
        now: u64,
        ttl: u64,
    ) -> Result<Vec<u8>, FernetError> {
        self.decrypt_fresh(token, now, ttl)
            .map(|opened| opened.plaintext)
    }

    /// Like [`Fernet::decrypt_with_ttl`], also returning the token's timestamp and HMAC tag
    /// (which identifies the token: every token has a random IV).
    pub fn decrypt_fresh(
        &self,
        token: &[u8],
        now: u64,
        ttl: u64,
    ) -> Result<OpenedToken, FernetError> {
        let raw = self.verified_raw(token)?;
        let time = u64::from_be_bytes(raw[1..9].try_into().expect("8 bytes"));
        if time.saturating_add(ttl) < now {
            return Err(FernetError::Expired {
                token_time: time,
                now,
                ttl,
            });
        }
        if now.saturating_add(MAX_CLOCK_SKEW) < time {
            return Err(FernetError::FromTheFuture {
                token_time: time,
                now,
            });
        }
        let tag: [u8; MAC_LEN] = raw[raw.len() - MAC_LEN..].try_into().expect("32 bytes");
        Ok(OpenedToken {
            plaintext: self.open_raw(raw)?,
            time,
            tag,
        })
    }

    /// Decodes the base64, checks the layout and the HMAC (constant time); returns the raw token.
    fn verified_raw(&self, token: &[u8]) -> Result<Vec<u8>, FernetError> {
        let mut raw = vec![0u8; base64::decoded_len_estimate(token.len())];
        let len = URL_SAFE
            .decode_slice(token, &mut raw)
            .map_err(|e| FernetError::Base64 {
                len: token.len(),
                reason: e.to_string(),
            })?;
        raw.truncate(len);
        if len < PREFIX_LEN + BLOCK + MAC_LEN {
            return Err(FernetError::TooShort { len });
        }
        if raw[0] != VERSION {
            return Err(FernetError::BadVersion { found: raw[0] });
        }
        let ciphertext_len = len - PREFIX_LEN - MAC_LEN;
        if !ciphertext_len.is_multiple_of(BLOCK) {
            return Err(FernetError::NotBlockAligned {
                len: ciphertext_len,
            });
        }
        let (signed, tag) = raw.split_at(len - MAC_LEN);
        let mut mac = self.signer.clone();
        mac.update(signed);
        let expected = mac.finalize().into_bytes();
        if !bool::from(expected.as_slice().ct_eq(tag)) {
            return Err(FernetError::InvalidSignature);
        }
        Ok(raw)
    }

    /// Decrypts a verified raw token in place and moves the plaintext to the front.
    fn open_raw(&self, mut raw: Vec<u8>) -> Result<Vec<u8>, FernetError> {
        let end = raw.len() - MAC_LEN;
        let iv: [u8; 16] = raw[9..PREFIX_LEN].try_into().expect("16 bytes");
        let plaintext_len =
            cbc::Decryptor::<Aes128>::inner_iv_init(self.cipher.clone(), &iv.into())
                .decrypt_padded::<Pkcs7>(&mut raw[PREFIX_LEN..end])
                .map_err(|_| FernetError::BadPadding)?
                .len();
        raw.copy_within(PREFIX_LEN..PREFIX_LEN + plaintext_len, 0);
        raw.truncate(plaintext_len);
        Ok(raw)
    }
}

/// The timestamp of a base64 `token` (the sender's unix seconds when it encrypted), read from
/// its first 12 characters without checking anything: trust it only for a token that decrypted.
pub fn token_timestamp(token: &[u8]) -> Option<u64> {
    let mut prefix = [0u8; 9];
    let read = URL_SAFE.decode_slice(token.get(..12)?, &mut prefix).ok()?;
    (read == 9 && prefix[0] == VERSION)
        .then(|| u64::from_be_bytes(prefix[1..9].try_into().expect("8 bytes")))
}

/// A fresh IV from the operating system's random number generator.
fn random_iv() -> [u8; 16] {
    let mut iv = [0u8; 16];
    getrandom::fill(&mut iv).expect("the operating system's random number generator failed");
    iv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_timestamp_reads_the_prefix_of_a_token_only() {
        let fernet = Fernet::from_cluster_key("abcdefghijklmnopqrstuvwxyz012345").unwrap();
        let token = fernet.encrypt(b"hello", 1_700_000_123);
        assert_eq!(token_timestamp(&token), Some(1_700_000_123));
        assert_eq!(token_timestamp(b"gAAAA"), None);
        assert_eq!(
            token_timestamp(b"AAAAAAAAAAAAAAAA"),
            None,
            "not version 0x80"
        );
    }

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

    fn fernet() -> Fernet {
        Fernet::from_cluster_key(KEY).unwrap()
    }

    #[test]
    fn round_trips_and_has_wazuh_token_lengths() {
        let f = fernet();
        for (len, token_len) in [(0, 100), (15, 100), (16, 120), (31, 120), (36, 140)] {
            let plaintext = vec![b'x'; len];
            let token = f.encrypt(&plaintext, 1_795_701_891);
            assert_eq!(token.len(), token_len, "plaintext of {len} bytes");
            assert_eq!(Fernet::token_len(len), token_len);
            assert_eq!(f.decrypt(&token).unwrap(), plaintext);
        }
    }

    #[test]
    fn token_layout_is_version_time_iv_ciphertext_mac() {
        let token = fernet().encrypt_with_iv(b"hello", 0x0102_0304_0506_0708, [7; 16]);
        let raw = URL_SAFE.decode(&token).unwrap();
        assert_eq!(raw[0], 0x80);
        assert_eq!(&raw[1..9], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&raw[9..25], &[7; 16]);
        assert_eq!(raw.len(), 25 + 16 + 32);
        assert!(token.ends_with(b"="), "url-safe base64 keeps its padding");
    }

    #[test]
    fn refuses_other_key_and_altered_tokens() {
        let token = fernet().encrypt(b"keepalive", 5);
        let other = Fernet::from_cluster_key("0123456789abcdefghijklmnopqrstuv").unwrap();
        assert_eq!(other.decrypt(&token), Err(FernetError::InvalidSignature));

        let mut raw = URL_SAFE.decode(&token).unwrap();
        raw[30] ^= 1;
        let altered = URL_SAFE.encode(&raw);
        assert_eq!(
            fernet().decrypt(altered.as_bytes()),
            Err(FernetError::InvalidSignature)
        );
        raw[0] = 0x81;
        assert_eq!(
            fernet().decrypt(URL_SAFE.encode(&raw).as_bytes()),
            Err(FernetError::BadVersion { found: 0x81 })
        );
        assert_eq!(
            fernet().decrypt(URL_SAFE.encode([0x80; 40]).as_bytes()),
            Err(FernetError::TooShort { len: 40 })
        );
        assert!(matches!(
            fernet().decrypt(b"not base64!"),
            Err(FernetError::Base64 { len: 11, .. })
        ));
        assert!(matches!(
            fernet().decrypt(URL_SAFE.encode([0x80; 80]).as_bytes()),
            Err(FernetError::NotBlockAligned { len: 23 })
        ));
    }

    #[test]
    fn a_key_differing_only_in_its_encryption_half_breaks_the_padding() {
        let token = fernet().encrypt(b"keepalive", 5);
        let other = Fernet::from_cluster_key("abcdefghijklmnopqrstuvwxyz012346").unwrap();
        assert_eq!(other.decrypt(&token), Err(FernetError::BadPadding));
    }

    #[test]
    fn ttl_is_checked_only_when_asked() {
        let f = fernet();
        let token = f.encrypt(b"x", 1000);
        assert_eq!(f.decrypt_with_ttl(&token, 1010, 10).unwrap(), b"x");
        assert_eq!(
            f.decrypt_with_ttl(&token, 1011, 10),
            Err(FernetError::Expired {
                token_time: 1000,
                now: 1011,
                ttl: 10
            })
        );
        assert_eq!(
            f.decrypt_with_ttl(&token, 939, 10),
            Err(FernetError::FromTheFuture {
                token_time: 1000,
                now: 939
            })
        );
        assert_eq!(f.decrypt(&token).unwrap(), b"x");
    }

    #[test]
    fn debug_output_hides_the_keys() {
        assert_eq!(format!("{:?}", fernet()), "Fernet { keys: <redacted> }");
    }
}
