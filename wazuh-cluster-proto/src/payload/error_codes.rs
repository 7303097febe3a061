//! Wazuh's cluster error codes and their messages (`framework/wazuh/core/exception.py`).
//!
//! The texts of 1000 and 3000-3040 are Wazuh 4.9-4.12's. Codes 3050, 3051 and 3060 were added in
//! Wazuh 4.14.5-4.14.6; their texts here are this project's own wording of what they mean.
//! Code 3070 is this project's own (master failover); a Python Wazuh worker that receives it in
//! reply to `hello` logs it and retries later, as for any refused `hello`.

/// Unexpected internal error (also: wrong `hello` field count).
pub const INTERNAL: u32 = 1000;
/// Generic cluster error; a non-JSON `err` reply is read as this code.
pub const CLUSTER: u32 = 3000;
/// Invalid cluster configuration.
pub const CONFIGURATION: u32 = 3004;
/// `client.keys` received by the master.
pub const CLIENT_KEYS_IN_MASTER: u32 = 3007;
/// Distributed API request failed.
pub const DAPI_FAILED: u32 = 3009;
/// The local cluster socket is missing.
pub const CLUSTER_NOT_RUNNING: u32 = 3012;
/// Sending a request failed.
pub const SEND_FAILED: u32 = 3018;
/// A request got no reply in time.
pub const REQUEST_TIMEOUT: u32 = 3020;
/// A distributed API request got no result in time.
pub const API_TIMEOUT: u32 = 3021;
/// Unknown node name.
pub const UNKNOWN_NODE: u32 = 3022;
/// The worker has no connection to the master.
pub const WORKER_NOT_CONNECTED: u32 = 3023;
/// Command name longer than 11 bytes.
pub const COMMAND_TOO_LONG: u32 = 3024;
/// Fernet token could not be decrypted.
pub const DECRYPT_FAILED: u32 = 3025;
/// Out of memory while building a request.
pub const OUT_OF_MEMORY: u32 = 3026;
/// Unknown task id.
pub const UNKNOWN_TASK: u32 = 3027;
/// A worker with this name is already connected.
pub const DUPLICATE_WORKER: u32 = 3028;
/// The worker has the master's name.
pub const WORKER_NAMED_AS_MASTER: u32 = 3029;
/// The worker belongs to another cluster.
pub const OTHER_CLUSTER: u32 = 3030;
/// Worker and master versions differ.
pub const VERSION_MISMATCH: u32 = 3031;
/// DAPI request could not be forwarded.
pub const DAPI_NOT_FORWARDED: u32 = 3032;
/// File to send not found.
pub const FILE_NOT_FOUND: u32 = 3034;
/// String id not found.
pub const STRING_NOT_FOUND: u32 = 3035;
/// JSON could not be parsed.
pub const BAD_JSON: u32 = 3036;
/// A file did not arrive in time.
pub const FILE_TIMEOUT: u32 = 3039;
/// Waiting for a file failed.
pub const FILE_WAIT_FAILED: u32 = 3040;
/// A message is larger than the 256 MiB limit (Wazuh 4.14.5+).
pub const MESSAGE_TOO_LARGE: u32 = 3050;
/// Too many divided messages in flight (Wazuh 4.14.5+).
pub const TOO_MANY_DIVIDED: u32 = 3051;
/// Node name outside `[A-Za-z0-9_-]+` (Wazuh 4.14.6+).
pub const INVALID_NODE_NAME: u32 = 3060;
/// This project's: the node a worker said `hello` to is not the master now. The extra message
/// ends with ` at HOST:PORT` naming the current master when one is known (the `not_master`
/// payload module builds and reads it).
pub const NOT_MASTER: u32 = 3070;

/// The message Wazuh shows for `code`, or `None` for a code outside this catalogue.
pub fn message(code: u32) -> Option<&'static str> {
    Some(match code {
        INTERNAL => "Wazuh Internal Error",
        CLUSTER => "Cluster",
        CONFIGURATION => "Error in cluster configuration",
        CLIENT_KEYS_IN_MASTER => "Client.keys file received in master node",
        DAPI_FAILED => "Error executing distributed API request",
        CLUSTER_NOT_RUNNING => "Cluster is not running",
        SEND_FAILED => "Error sending request",
        REQUEST_TIMEOUT => "Timeout sending request",
        API_TIMEOUT => "Timeout executing API request",
        UNKNOWN_NODE => "Unknown node ID",
        WORKER_NOT_CONNECTED => "Worker node is not connected to master",
        COMMAND_TOO_LONG => {
            "Length of command exceeds limit defined in wazuh.cluster.common.Handler.cmd_len."
        }
        DECRYPT_FAILED => "Could not decrypt message",
        OUT_OF_MEMORY => "Error sending request: Memory error. Request chunk size divided by 2.",
        UNKNOWN_TASK => "Unknown received task name",
        DUPLICATE_WORKER => "Worker node ID already exists",
        WORKER_NAMED_AS_MASTER => "Connected worker with same name as the master",
        OTHER_CLUSTER => "Worker does not belong to the same cluster",
        VERSION_MISMATCH => "Worker and master versions are not the same",
        DAPI_NOT_FORWARDED => "Could not forward DAPI request. Connection not available.",
        FILE_NOT_FOUND => "Error sending file. File not found.",
        STRING_NOT_FOUND => "String couldn't be found",
        BAD_JSON => "JSON couldn't be loaded",
        FILE_TIMEOUT => "Timeout while waiting to receive a file",
        FILE_WAIT_FAILED => "Error while waiting to receive a file",
        MESSAGE_TOO_LARGE => "Message size exceeds the maximum allowed limit",
        TOO_MANY_DIVIDED => "Too many divided messages being received at the same time",
        INVALID_NODE_NAME => "Invalid node name: only letters, digits, '_' and '-' are allowed",
        NOT_MASTER => "This node is not the master",
        _ => return None,
    })
}
