//! Command names: the 12-byte command field of a frame header without its padding.
//!
//! On the wire a command `name` is written as `name + b' ' + b'-' * (11 - len)` followed by the
//! division flag byte (`d` or `-`). A name is therefore at most [`Command::MAX_LEN`] (11) bytes,
//! and a received name is whatever stands before the first space of the first 11 bytes.

use std::fmt;

/// Why a command name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The name is longer than the 11 bytes the header has room for (Wazuh error 3024).
    #[error("command name {name:?} is {len} bytes long; at most 11 bytes fit in a frame header")]
    TooLong {
        /// The refused name, lossily decoded.
        name: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The name is empty.
    #[error("command name is empty; a frame needs a command such as `hello` or `ok`")]
    Empty,
    /// The name contains a space, which would end it early on the peer's side.
    #[error("command name {name:?} contains a space; the peer would read only the part before it")]
    ContainsSpace {
        /// The refused name, lossily decoded.
        name: String,
    },
}

/// A validated command name, 1 to 11 bytes, without spaces.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Command {
    len: u8,
    bytes: [u8; Command::MAX_LEN],
}

impl Command {
    /// The longest name a frame header can carry.
    pub const MAX_LEN: usize = 11;

    /// Validates `name` as a command.
    pub fn new(name: &[u8]) -> Result<Self, CommandError> {
        if name.is_empty() {
            return Err(CommandError::Empty);
        }
        if name.len() > Self::MAX_LEN {
            return Err(CommandError::TooLong {
                name: String::from_utf8_lossy(name).into_owned(),
                len: name.len(),
            });
        }
        if name.contains(&b' ') {
            return Err(CommandError::ContainsSpace {
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..name.len()].copy_from_slice(name);
        Ok(Self {
            len: name.len() as u8,
            bytes,
        })
    }

    /// Builds a command from a name known at compile time; a bad name fails the build.
    pub const fn from_static(name: &'static str) -> Self {
        let src = name.as_bytes();
        assert!(
            !src.is_empty() && src.len() <= Self::MAX_LEN,
            "command names are 1 to 11 bytes"
        );
        let mut bytes = [0u8; Self::MAX_LEN];
        let mut i = 0;
        while i < src.len() {
            assert!(src[i] != b' ', "command names contain no space");
            bytes[i] = src[i];
            i += 1;
        }
        Self {
            len: src.len() as u8,
            bytes,
        }
    }

    /// The name's bytes, without padding.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The name as text, with invalid UTF-8 replaced.
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({:?})", self.to_str_lossy())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_str_lossy())
    }
}

/// The commands of the Wazuh 4.x cluster protocol (`wazuh4-protocol.md` section 3).
pub mod names {
    use super::Command;

    /// Worker to master handshake.
    pub const HELLO: Command = Command::from_static("hello");
    /// Successful reply.
    pub const OK: Command = Command::from_static("ok");
    /// Error reply (WazuhJSON exception, or plain text read as error 3000).
    pub const ERR: Command = Command::from_static("err");
    /// Reply from the master to a worker's keepalive.
    pub const OK_M: Command = Command::from_static("ok-m");
    /// Reply from a worker to a master's `echo-m`.
    pub const OK_C: Command = Command::from_static("ok-c");
    /// Keepalive from worker (or local client) to master (or local server).
    pub const ECHO_C: Command = Command::from_static("echo-c");
    /// Echo (performance test only).
    pub const ECHO: Command = Command::from_static("echo");
    /// Echo from master to worker (defined, never sent by Wazuh).
    pub const ECHO_M: Command = Command::from_static("echo-m");
    /// Integrity check permission request.
    pub const SYN_I_W_M_P: Command = Command::from_static("syn_i_w_m_p");
    /// Integrity check start.
    pub const SYN_I_W_M: Command = Command::from_static("syn_i_w_m");
    /// Integrity check end (`"<tid> <relpath>"`).
    pub const SYN_I_W_M_E: Command = Command::from_static("syn_i_w_m_e");
    /// Integrity check error report.
    pub const SYN_I_W_M_R: Command = Command::from_static("syn_i_w_m_r");
    /// Master to worker: integrity matches, no sync needed.
    pub const SYN_M_C_OK: Command = Command::from_static("syn_m_c_ok");
    /// Master to worker: integrity sync start.
    pub const SYN_M_C: Command = Command::from_static("syn_m_c");
    /// Master to worker: integrity sync end.
    pub const SYN_M_C_E: Command = Command::from_static("syn_m_c_e");
    /// Master to worker: integrity sync error.
    pub const SYN_M_C_R: Command = Command::from_static("syn_m_c_r");
    /// Master to worker (this project's, not Wazuh's): the master's synchronized files changed;
    /// start an integrity check now instead of at the next `sync_integrity`. Empty payload,
    /// answered `ok`. A Python Wazuh worker answers it with its plain-text "unknown command"
    /// error, which the master ignores: such a worker simply syncs on its own schedule.
    pub const SYN_M_CHG: Command = Command::from_static("syn_m_chg");
    /// Agent-info permission request.
    pub const SYN_A_W_M_P: Command = Command::from_static("syn_a_w_m_p");
    /// Agent-info delivery (string id).
    pub const SYN_A_W_M: Command = Command::from_static("syn_a_w_m");
    /// Master to worker: agent-info result.
    pub const SYN_M_A_E: Command = Command::from_static("syn_m_a_e");
    /// Master to worker: agent-info error.
    pub const SYN_M_A_ERR: Command = Command::from_static("syn_m_a_err");
    /// Master to worker: periodic agent-groups (string id).
    pub const SYN_G_M_W: Command = Command::from_static("syn_g_m_w");
    /// Master to worker: full agent-groups (string id).
    pub const SYN_G_M_W_C: Command = Command::from_static("syn_g_m_w_c");
    /// Worker to master: agent-groups result.
    pub const SYN_W_G_E: Command = Command::from_static("syn_w_g_e");
    /// Worker to master: agent-groups error.
    pub const SYN_W_G_ERR: Command = Command::from_static("syn_w_g_err");
    /// Worker to master: request the full agent-groups.
    pub const SYN_W_G_C: Command = Command::from_static("syn_w_g_c");
    /// Worker to master: full agent-groups result.
    pub const SYN_WGC_E: Command = Command::from_static("syn_wgc_e");
    /// Worker to master: full agent-groups error.
    pub const SYN_WGC_ERR: Command = Command::from_static("syn_wgc_err");
    /// File transfer start (path with a leading `/`).
    pub const NEW_FILE: Command = Command::from_static("new_file");
    /// File transfer chunk (`path + ' ' + chunk`).
    pub const FILE_UPD: Command = Command::from_static("file_upd");
    /// File transfer end (`path + ' ' + sha256 digest`).
    pub const FILE_END: Command = Command::from_static("file_end");
    /// String transfer start (decimal total length).
    pub const NEW_STR: Command = Command::from_static("new_str");
    /// String transfer chunk (`id + ' ' + slice`).
    pub const STR_UPD: Command = Command::from_static("str_upd");
    /// String transfer error.
    pub const ERR_STR: Command = Command::from_static("err_str");
    /// Cancel a task (`"<tid> <WazuhJSON exception>"`).
    pub const CANCEL_TASK: Command = Command::from_static("cancel_task");
    /// Distributed API request.
    pub const DAPI: Command = Command::from_static("dapi");
    /// Distributed API result.
    pub const DAPI_RES: Command = Command::from_static("dapi_res");
    /// Distributed API error.
    pub const DAPI_ERR: Command = Command::from_static("dapi_err");
    /// Socket relay request.
    pub const SENDSYNC: Command = Command::from_static("sendsync");
    /// Node list query.
    pub const GET_NODES: Command = Command::from_static("get_nodes");
    /// Health query.
    pub const GET_HEALTH: Command = Command::from_static("get_health");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_long_empty_and_spaced_names() {
        assert!(matches!(
            Command::new(b"sendsync_err"),
            Err(CommandError::TooLong { len: 12, .. })
        ));
        assert_eq!(Command::new(b""), Err(CommandError::Empty));
        assert!(matches!(
            Command::new(b"a b"),
            Err(CommandError::ContainsSpace { .. })
        ));
        assert_eq!(Command::new(b"syn_i_w_m_p").unwrap(), names::SYN_I_W_M_P);
    }
}
