//! The cluster key of `ossec.conf` (`<cluster><key>`) and how Wazuh turns it into Fernet keys.

/// Why a cluster key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterKeyError {
    /// The key does not have exactly 32 characters (Wazuh error 3004).
    #[error(
        "cluster key has {found} characters; Wazuh requires exactly 32 ASCII letters or digits (error 3004)"
    )]
    WrongLength {
        /// Number of characters found.
        found: usize,
    },
    /// The key holds a character that is not an ASCII letter or digit (Wazuh error 3004).
    #[error(
        "cluster key has {character:?} at position {position}; only ASCII letters and digits are allowed (error 3004)"
    )]
    BadCharacter {
        /// The first refused character.
        character: char,
        /// Its position, counted in characters from 0.
        position: usize,
    },
}

/// The 32 key bytes: the ASCII text of a valid cluster key.
///
/// Wazuh builds its Fernet with `Fernet(base64.b64encode(key.encode()))`, and Fernet base64-decodes
/// that back, so the raw key is the ASCII text itself: bytes 0..16 sign, bytes 16..32 encrypt.
pub(crate) fn cluster_key_bytes(key: &str) -> Result<[u8; 32], ClusterKeyError> {
    let found = key.chars().count();
    if found != 32 {
        return Err(ClusterKeyError::WrongLength { found });
    }
    if let Some((position, character)) = key
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return Err(ClusterKeyError::BadCharacter {
            character,
            position,
        });
    }
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(key.as_bytes());
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_32_alphanumerics_as_raw_bytes() {
        let bytes = cluster_key_bytes("c98b62a9b6169ac5f67dae55ae4a9088").unwrap();
        assert_eq!(&bytes[..16], b"c98b62a9b6169ac5");
        assert_eq!(&bytes[16..], b"f67dae55ae4a9088");
    }

    #[test]
    fn names_the_length_found() {
        assert_eq!(
            cluster_key_bytes("short"),
            Err(ClusterKeyError::WrongLength { found: 5 })
        );
        // 32 bytes but 31 characters: counted in characters.
        let key = format!("é{}", "a".repeat(30));
        assert_eq!(
            cluster_key_bytes(&key),
            Err(ClusterKeyError::WrongLength { found: 31 })
        );
    }

    #[test]
    fn names_the_first_bad_character_and_position() {
        let key = "abcdefghijklmnop-rstuvwxyz012345";
        assert_eq!(
            cluster_key_bytes(key),
            Err(ClusterKeyError::BadCharacter {
                character: '-',
                position: 16
            })
        );
        let key = format!("é{}", "a".repeat(31));
        assert_eq!(
            cluster_key_bytes(&key),
            Err(ClusterKeyError::BadCharacter {
                character: 'é',
                position: 0
            })
        );
    }
}
