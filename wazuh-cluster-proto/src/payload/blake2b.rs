//! [`Blake2bHex`]: a BLAKE2b-512 digest, held as its 64 bytes and written as the 128 lowercase
//! hex characters of Python's `hashlib.blake2b().hexdigest()`.
//!
//! A table holds one digest per file (the master's table, each worker's table, every part of a
//! sync plan, the record of what was sent): 64 bytes in place instead of a 128-byte heap
//! string and its 24-byte header.

use std::fmt;

use blake2::{Blake2b512, Digest};
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A BLAKE2b-512 digest; its text form is 128 lowercase hex characters. Ordered as its text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Blake2bHex([u8; 64]);

/// A string that is not 128 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hash {value:?} is not 128 lowercase hex characters (a BLAKE2b-512 hex digest)")]
pub struct Blake2bHexError {
    /// The refused value (at most 160 characters kept).
    pub value: String,
}

/// The 128 hex characters of a digest, on the stack.
#[derive(Clone, Copy)]
pub struct HexText([u8; 128]);

impl HexText {
    /// The text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

impl Blake2bHex {
    /// Hashes `data`.
    pub fn of(data: &[u8]) -> Self {
        Self::from_digest(Blake2b512::digest(data).into())
    }

    /// The digest of a finished hasher's 64 bytes.
    pub fn from_digest(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// The 128 lowercase hex characters.
    pub fn hex(&self) -> HexText {
        let mut out = [0u8; 128];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 15)];
        }
        HexText(out)
    }

    /// Reads 128 lowercase hex characters.
    pub fn parse(text: &str) -> Result<Self, Blake2bHexError> {
        let refuse = || Blake2bHexError {
            value: text.chars().take(160).collect(),
        };
        let text = text.as_bytes();
        if text.len() != 128 {
            return Err(refuse());
        }
        let mut out = [0u8; 64];
        for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            let (Some(high), Some(low)) = (nibble(pair[0]), nibble(pair[1])) else {
                return Err(refuse());
            };
            *byte = high << 4 | low;
        }
        Ok(Self(out))
    }
}

/// The value of one lowercase hex digit.
fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

impl TryFrom<String> for Blake2bHex {
    type Error = Blake2bHexError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl TryFrom<&str> for Blake2bHex {
    type Error = Blake2bHexError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Blake2bHex> for String {
    fn from(hash: Blake2bHex) -> Self {
        hash.hex().as_str().to_owned()
    }
}

impl fmt::Display for Blake2bHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

impl fmt::Debug for Blake2bHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blake2bHex({:?})", self.hex().as_str())
    }
}

impl Serialize for Blake2bHex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.hex().as_str())
    }
}

impl<'de> Deserialize<'de> for Blake2bHex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl Visitor<'_> for HexVisitor {
            type Value = Blake2bHex;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a BLAKE2b-512 digest as 128 lowercase hex characters")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Blake2bHex, E> {
                Blake2bHex::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

/// BLAKE2b-512 of `data` as 128 lowercase hex characters.
pub fn blake2b_hex(data: &[u8]) -> String {
    Blake2bHex::of(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blake2b_of_empty_input() {
        assert_eq!(
            blake2b_hex(b""),
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419\
             d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        );
    }

    #[test]
    fn text_round_trips_and_orders_as_text() {
        let (a, b) = (Blake2bHex::of(b"a"), Blake2bHex::of(b"b"));
        for hash in [a, b] {
            let text = hash.to_string();
            assert_eq!(text.len(), 128);
            assert_eq!(Blake2bHex::parse(&text), Ok(hash));
            let json = serde_json::to_string(&hash).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Blake2bHex>(&json).unwrap(), hash);
        }
        assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
    }

    #[test]
    fn refuses_what_is_not_128_lowercase_hex() {
        let good = Blake2bHex::of(b"x").to_string();
        for bad in [
            good.to_uppercase(),
            good[..127].to_owned(),
            format!("{good}0"),
            format!("{}g", &good[..127]),
            format!("é{}", &good[2..]),
        ] {
            let error = Blake2bHex::parse(&bad).unwrap_err();
            assert_eq!(error.value, bad.chars().take(160).collect::<String>());
            assert!(serde_json::from_value::<Blake2bHex>(bad.into()).is_err());
        }
    }
}
