//! The refusal of a worker's `hello` by a node that is not the master now (code 3070, this
//! project's, for master failover): it names the current master, so the worker connects there.
//!
//! The extra message is `the master is NAME at HOST:PORT`, or `no master is elected now` while
//! an election runs. A Python Wazuh worker logs the refusal and retries its own master later.

use super::error_codes::NOT_MASTER;
use super::exception::WazuhException;

/// Where the current master is: its node name and its `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterLocation {
    /// The master's node name.
    pub name: String,
    /// Its cluster address, `host:port`.
    pub address: String,
}

const AT: &str = " at ";
const PREFIX: &str = "the master is ";

/// The refusal a non-master node sends in reply to `hello`, naming `master` when one is known.
pub fn not_master(master: Option<&MasterLocation>) -> WazuhException {
    let extra = match master {
        Some(m) => format!("{PREFIX}{}{AT}{}", m.name, m.address),
        None => "no master is elected now; retry in a moment".to_owned(),
    };
    WazuhException::cluster(NOT_MASTER).with_extra_message(extra)
}

impl WazuhException {
    /// The master a [`not_master`] refusal names; `None` for any other error, or when no
    /// master was elected.
    pub fn current_master(&self) -> Option<MasterLocation> {
        if self.code != NOT_MASTER {
            return None;
        }
        let rest = self.extra_message.as_deref()?.strip_prefix(PREFIX)?;
        let (name, address) = rest.rsplit_once(AT)?;
        (!name.is_empty() && !address.is_empty()).then(|| MasterLocation {
            name: name.to_owned(),
            address: address.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_master_and_survives_the_wire() {
        let master = MasterLocation {
            name: "master02".into(),
            address: "127.0.0.1:1517".into(),
        };
        let refusal = not_master(Some(&master));
        let back = WazuhException::from_json(refusal.to_json().as_bytes()).unwrap();
        assert_eq!(back.code, 3070);
        assert_eq!(back.current_master(), Some(master));
        assert!(
            back.to_string().contains("master02 at 127.0.0.1:1517"),
            "{back}"
        );
    }

    #[test]
    fn no_master_and_other_errors_name_none() {
        assert_eq!(not_master(None).current_master(), None);
        let other = WazuhException::cluster(3028).with_extra_message("the master is x at y");
        assert_eq!(other.current_master(), None);
    }
}
