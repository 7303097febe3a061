//! Reading a command's JSON payload and turning an [`AgentError`]
//! into Wazuh's error reply.

use serde::de::DeserializeOwned;
use wazuh_cluster_core::agents::AgentError;
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

/// The payload as `T`; Wazuh's 3036 (bad JSON) naming `command` when it is not.
pub(super) fn parse<T: DeserializeOwned>(
    command: &str,
    payload: &[u8],
) -> Result<T, Box<WazuhException>> {
    serde_json::from_slice(payload).map_err(|e| {
        Box::new(
            WazuhException::cluster(error_codes::BAD_JSON).with_extra_message(format!(
                "the payload of {command} is not what it takes: {e}"
            )),
        )
    })
}

/// The error reply of `error`: a `WazuhError` carrying its code and its own message (for an
/// error the master gave a worker, the master's code and message).
pub(super) fn refusal(error: AgentError) -> WazuhException {
    let code = error.code();
    let message = match error {
        AgentError::Master { message, .. } => message,
        other => other.to_string(),
    };
    let mut exception = WazuhException::error(code).with_extra_message(message);
    exception.cmd_error = true;
    exception
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_the_code_and_the_message() {
        let e = refusal(AgentError::NotFound { id: "007".into() });
        assert_eq!(
            e.to_string(),
            "Error 1701 - agent 007 does not exist; list the agents to find its id"
        );
        let e = refusal(AgentError::Master {
            code: 1705,
            message: "there is already an agent named \"a\"".into(),
        });
        assert_eq!(
            e.to_string(),
            "Error 1705 - there is already an agent named \"a\""
        );
        let decoded = WazuhException::from_err_reply(e.to_json().as_bytes());
        assert_eq!(decoded.code, 1705);
    }

    #[test]
    fn bad_payloads_are_3036() {
        let e = parse::<super::super::protocol::AgentRef>("agent_del", b"{\"x\":1}").unwrap_err();
        assert_eq!(e.code, 3036);
        assert!(e.to_string().contains("agent_del"), "{e}");
    }
}
