//! String transfer: `new_str` (total length) → reply `ok <id>`, then `str_upd` (`id + b' ' +
//! slice`) until the string is complete. [`StringStore`] is the receiving side, sans-IO.

use std::collections::HashMap;

use crate::command::{Command, names};
use crate::division::REQUEST_CHUNK;

/// Wazuh 4.14.5+'s largest string (`MAX_TOTAL_SIZE`, 256 MiB).
pub const DEFAULT_MAX_STRING: u64 = crate::limits::MAX_TOTAL_SIZE as u64;

/// Why a string-transfer payload or step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StringTransferError {
    /// A length or id is not plain decimal ASCII.
    #[error("{what} {value:?} is not a decimal number")]
    NotDecimal {
        /// `new_str length` or `string id`.
        what: &'static str,
        /// The received text, lossily decoded (at most 32 bytes).
        value: String,
    },
    /// A `str_upd` payload has no space after the id.
    #[error("str_upd payload has no space after the id; expected \"<id> <data>\"")]
    MissingSeparator,
    /// The declared length is over the limit; nothing was allocated.
    #[error(
        "new_str declares {declared} bytes, over the limit of {max}; Wazuh answers \
         \"Requested size exceeds maximum allowed limit\""
    )]
    TooLarge {
        /// The declared length.
        declared: u64,
        /// The limit.
        max: u64,
    },
    /// Strings already pending would exceed the store's total limit with this one.
    #[error("pending strings would hold {total} bytes, over the store limit of {max}")]
    StoreFull {
        /// The total with this string.
        total: u64,
        /// The limit.
        max: u64,
    },
    /// The id is already in use.
    #[error("string id {id} is already in use")]
    DuplicateId {
        /// The id.
        id: u32,
    },
    /// No pending string has this id.
    #[error("string id {id} is unknown (never announced, or already taken)")]
    UnknownId {
        /// The id.
        id: u32,
    },
    /// A slice would write past the declared length.
    #[error("str_upd for id {id} brings {size} bytes, past the declared {declared}")]
    Overflow {
        /// The id.
        id: u32,
        /// The size it would reach.
        size: u64,
        /// The declared length.
        declared: u64,
    },
}

fn parse_decimal(what: &'static str, bytes: &[u8]) -> Result<u64, StringTransferError> {
    let not_decimal = || StringTransferError::NotDecimal {
        what,
        value: String::from_utf8_lossy(&bytes[..bytes.len().min(32)]).into_owned(),
    };
    if bytes.is_empty() || bytes.len() > 20 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(not_decimal());
    }
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_decimal)
}

/// The `new_str` payload: the total length in decimal.
pub fn new_str_payload(len: u64) -> Vec<u8> {
    len.to_string().into_bytes()
}

/// Parses a `new_str` payload (or `err_str`'s, which has the same form).
pub fn parse_new_str(payload: &[u8]) -> Result<u64, StringTransferError> {
    parse_decimal("new_str length", payload)
}

/// The `ok` reply payload to `new_str`: the id in decimal.
pub fn string_id_payload(id: u32) -> Vec<u8> {
    id.to_string().into_bytes()
}

/// Parses a string id (the reply to `new_str`, or the payload of `syn_a_w_m`/`syn_g_m_w`).
pub fn parse_string_id(payload: &[u8]) -> Result<u32, StringTransferError> {
    let value = parse_decimal("string id", payload)?;
    u32::try_from(value).map_err(|_| StringTransferError::NotDecimal {
        what: "string id",
        value: value.to_string(),
    })
}

/// The `str_upd` payload `id + b' ' + slice`.
pub fn str_upd_payload(id: u32, slice: &[u8]) -> Vec<u8> {
    let mut out = id.to_string().into_bytes();
    out.push(b' ');
    out.extend_from_slice(slice);
    out
}

/// Parses a `str_upd` payload into its id and slice.
pub fn parse_str_upd(payload: &[u8]) -> Result<(u32, &[u8]), StringTransferError> {
    let at = payload
        .iter()
        .position(|&b| b == b' ')
        .ok_or(StringTransferError::MissingSeparator)?;
    Ok((parse_string_id(&payload[..at])?, &payload[at + 1..]))
}

/// The `str_upd` requests that send `data` once the peer answered `new_str` with `id`; each
/// slice is `REQUEST_CHUNK - len(id) - 1` bytes so the payload is at most 5 MiB.
pub fn str_upd_requests(id: u32, data: &[u8]) -> impl Iterator<Item = (Command, Vec<u8>)> + '_ {
    let slice_len = REQUEST_CHUNK - id.to_string().len() - 1;
    data.chunks(slice_len)
        .map(move |slice| (names::STR_UPD, str_upd_payload(id, slice)))
}

#[derive(Debug)]
struct Pending {
    declared: u64,
    data: Vec<u8>,
}

/// The receiving side of string transfers: pending strings by id, with limits checked before
/// any allocation. Memory grows with the bytes received, never with what a peer declares.
#[derive(Debug)]
pub struct StringStore {
    max_string: u64,
    max_total: u64,
    declared_total: u64,
    pending: HashMap<u32, Pending>,
}

impl Default for StringStore {
    /// 256 MiB per string, 1 GiB declared across pending strings.
    fn default() -> Self {
        Self::new(DEFAULT_MAX_STRING, 4 * DEFAULT_MAX_STRING)
    }
}

impl StringStore {
    /// A store refusing strings over `max_string` bytes and more than `max_total` bytes declared
    /// by all pending strings together.
    pub fn new(max_string: u64, max_total: u64) -> Self {
        Self {
            max_string,
            max_total,
            declared_total: 0,
            pending: HashMap::new(),
        }
    }

    /// Registers a string of `declared` bytes under `id` (chosen by the caller, e.g. at random,
    /// and sent back in the `ok` reply).
    pub fn start(&mut self, id: u32, declared: u64) -> Result<(), StringTransferError> {
        if declared > self.max_string {
            return Err(StringTransferError::TooLarge {
                declared,
                max: self.max_string,
            });
        }
        if self.pending.contains_key(&id) {
            return Err(StringTransferError::DuplicateId { id });
        }
        let total = self.declared_total + declared;
        if total > self.max_total {
            return Err(StringTransferError::StoreFull {
                total,
                max: self.max_total,
            });
        }
        self.declared_total = total;
        self.pending.insert(
            id,
            Pending {
                declared,
                data: Vec::new(),
            },
        );
        Ok(())
    }

    /// Appends the slice of a `str_upd` payload; returns the id it belongs to.
    pub fn update(&mut self, payload: &[u8]) -> Result<u32, StringTransferError> {
        let (id, slice) = parse_str_upd(payload)?;
        let pending = self
            .pending
            .get_mut(&id)
            .ok_or(StringTransferError::UnknownId { id })?;
        let size = pending.data.len() as u64 + slice.len() as u64;
        if size > pending.declared {
            return Err(StringTransferError::Overflow {
                id,
                size,
                declared: pending.declared,
            });
        }
        pending.data.extend_from_slice(slice);
        Ok(id)
    }

    /// True when the string `id` has all its declared bytes.
    pub fn is_complete(&self, id: u32) -> bool {
        self.pending
            .get(&id)
            .is_some_and(|p| p.data.len() as u64 == p.declared)
    }

    /// Removes and returns the complete string `id`; `None` if unknown or still incomplete.
    pub fn take(&mut self, id: u32) -> Option<Vec<u8>> {
        if !self.is_complete(id) {
            return None;
        }
        self.remove(id)
    }

    /// Drops the string `id`, complete or not (after an error or timeout); returns its bytes.
    pub fn remove(&mut self, id: u32) -> Option<Vec<u8>> {
        let pending = self.pending.remove(&id)?;
        self.declared_total -= pending.declared;
        Some(pending.data)
    }

    /// Number of pending strings.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when no string is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_the_store() {
        let data = vec![b'x'; REQUEST_CHUNK + 10];
        let mut store = StringStore::default();
        store
            .start(
                42,
                parse_new_str(&new_str_payload(data.len() as u64)).unwrap(),
            )
            .unwrap();
        for (command, payload) in str_upd_requests(42, &data) {
            assert_eq!(command, names::STR_UPD);
            assert!(payload.len() <= REQUEST_CHUNK);
            assert!(!store.is_complete(42));
            store.update(&payload).unwrap();
        }
        assert_eq!(store.take(42).unwrap(), data);
        assert!(store.is_empty());
    }

    #[test]
    fn refuses_oversize_before_allocating_and_overflow() {
        let mut store = StringStore::default();
        assert_eq!(
            store.start(1, 4 << 30),
            Err(StringTransferError::TooLarge {
                declared: 4 << 30,
                max: DEFAULT_MAX_STRING
            })
        );
        store.start(1, 3).unwrap();
        assert_eq!(
            store.start(1, 3),
            Err(StringTransferError::DuplicateId { id: 1 })
        );
        assert!(matches!(
            store.update(b"1 abcd"),
            Err(StringTransferError::Overflow { size: 4, .. })
        ));
        assert_eq!(
            store.update(b"2 a"),
            Err(StringTransferError::UnknownId { id: 2 })
        );
        assert!(store.take(1).is_none());
    }

    #[test]
    fn strict_decimals() {
        for bad in [
            &b""[..],
            b"+1",
            b" 1",
            b"1 ",
            b"0x10",
            b"99999999999999999999999",
        ] {
            assert!(parse_new_str(bad).is_err(), "{bad:?}");
        }
        assert!(parse_string_id(b"4294967296").is_err());
        assert_eq!(parse_string_id(b"4294967295"), Ok(u32::MAX));
    }
}
