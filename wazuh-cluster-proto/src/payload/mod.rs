//! Typed payloads of the Wazuh 4.x cluster commands, with strict decoders.
//!
//! Every decoder refuses trailing bytes where the format has an end, bounds every size before
//! allocating, and returns a typed error naming what was wrong and where; none panics.

pub mod error_codes;
pub mod exception;
pub mod hello;
mod python_json;

pub use exception::{
    ExceptionClass, ExceptionDecodeError, WazuhException, unknown_command_payload,
};
pub use hello::{Hello, HelloError, NodeNameError, NodeType, validate_node_name};
