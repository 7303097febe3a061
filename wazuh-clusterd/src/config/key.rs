//! The shared cluster key: exactly 32 ASCII letters or digits, as Wazuh demands.

use std::fmt;

use thiserror::Error;

/// Length of a cluster key, in characters (and bytes: the key is ASCII).
pub const KEY_LEN: usize = 32;

/// Why a text is not a cluster key. The key itself is never part of the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// Empty or absent.
    #[error(
        "the key is empty; set it to 32 letters or digits (`wazuh-clusterd keygen` prints one)"
    )]
    Empty,
    /// Not 32 characters long.
    #[error(
        "the key is {length} characters long; it must be exactly 32 letters or digits \
         (`wazuh-clusterd keygen` prints one)"
    )]
    Length {
        /// Number of characters found.
        length: usize,
    },
    /// A character that is not an ASCII letter or digit.
    #[error(
        "the key has {character:?} at position {position}; only ASCII letters and digits are allowed"
    )]
    Character {
        /// The offending character.
        character: char,
        /// 1-based position of the character in the key.
        position: usize,
    },
}

/// A valid cluster key. Its `Debug` output hides the value so that it never lands in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterKey([u8; KEY_LEN]);

impl ClusterKey {
    /// Checks `text` (exactly 32 ASCII alphanumerics) and keeps it.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        if let Some((index, character)) = text
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(KeyError::Character {
                character,
                position: index + 1,
            });
        }
        let bytes: [u8; KEY_LEN] = text
            .as_bytes()
            .try_into()
            .map_err(|_| KeyError::Length { length: text.len() })?;
        Ok(ClusterKey(bytes))
    }

    /// The 32 key bytes, as the Fernet construction uses them (0-15 sign, 16-31 encrypt).
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a ClusterKey holds ASCII alphanumerics only")
    }
}

impl fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterKey(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_32_alphanumerics() {
        let key = ClusterKey::parse("abcdefghijklmnopqrstuvwxyz012345").unwrap();
        assert_eq!(key.as_str(), "abcdefghijklmnopqrstuvwxyz012345");
        assert_eq!(format!("{key:?}"), "ClusterKey(<hidden>)");
    }

    #[test]
    fn names_length_and_bad_character() {
        assert_eq!(ClusterKey::parse(""), Err(KeyError::Empty));
        assert_eq!(
            ClusterKey::parse("abc"),
            Err(KeyError::Length { length: 3 })
        );
        assert_eq!(
            ClusterKey::parse("abcdefghijklmnop_rstuvwxyz012345"),
            Err(KeyError::Character {
                character: '_',
                position: 17
            })
        );
        assert_eq!(
            ClusterKey::parse("abcdefghijklmnopqrstuvwxyz01234é"),
            Err(KeyError::Character {
                character: 'é',
                position: 32
            })
        );
    }
}
