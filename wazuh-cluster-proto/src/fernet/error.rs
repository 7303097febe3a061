//! Why a Fernet token was refused.

/// A Fernet token that could not be decrypted.
///
/// Wazuh treats every one of these as `InvalidToken`, raises error 3025 ("Could not decrypt
/// message") and closes the connection without a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FernetError {
    /// The token is not url-safe base64 with `=` padding.
    #[error(
        "Fernet token of {len} bytes is not url-safe base64 ({reason}): could not decrypt message (error 3025)"
    )]
    Base64 {
        /// Length of the base64 text.
        len: usize,
        /// What the base64 decoder reported.
        reason: String,
    },
    /// The decoded token is shorter than the 73 bytes of an empty Fernet token.
    #[error(
        "Fernet token is {len} bytes once decoded; at least 73 are needed: could not decrypt message (error 3025)"
    )]
    TooShort {
        /// Decoded length.
        len: usize,
    },
    /// The first byte is not the Fernet version 0x80.
    #[error(
        "Fernet token starts with version byte {found:#04x} instead of 0x80: could not decrypt message (error 3025)"
    )]
    BadVersion {
        /// The version byte found.
        found: u8,
    },
    /// The ciphertext is not a whole number of AES blocks.
    #[error(
        "Fernet ciphertext of {len} bytes is not a multiple of 16: could not decrypt message (error 3025)"
    )]
    NotBlockAligned {
        /// Ciphertext length.
        len: usize,
    },
    /// The HMAC does not match: the token was made with another key or altered on the way.
    #[error(
        "Fernet token signature does not match: could not decrypt message (error 3025); check that both nodes use the same cluster key"
    )]
    InvalidSignature,
    /// The signature matched but the PKCS7 padding is broken: the first 16 characters of the
    /// cluster key (the signing half) match the sender's and the last 16 (the encryption half)
    /// most likely do not.
    #[error(
        "Fernet token signature matches but its PKCS7 padding is broken: could not decrypt message (error 3025); the last 16 characters of the cluster key likely differ between the nodes"
    )]
    BadPadding,
    /// The token is older than the allowed time to live.
    #[error("Fernet token from unix time {token_time} is older than {ttl} s at unix time {now}")]
    Expired {
        /// The token's timestamp.
        token_time: u64,
        /// The time the caller passed in.
        now: u64,
        /// The allowed age in seconds.
        ttl: u64,
    },
    /// The token claims a time more than 60 s in the future (Fernet's allowed clock skew).
    #[error(
        "Fernet token from unix time {token_time} is more than 60 s ahead of unix time {now}; check the clocks"
    )]
    FromTheFuture {
        /// The token's timestamp.
        token_time: u64,
        /// The time the caller passed in.
        now: u64,
    },
}
