//! The error payload of an `err` reply: a Wazuh exception in Wazuh's JSON wrapper.
//!
//! ```text
//! {"__wazuh_exception__": {"__class__": "WazuhClusterError", "__object__": {"type": "about:blank",
//!  "title": "Wazuh Cluster Error", "code": 3031, "extra_message": null, "extra_remediation": null,
//!  "cmd_error": false, "dapi_errors": {}}}}
//! ```
//!
//! [`WazuhException::to_json`] writes exactly what Python's `json.dumps` writes. A `WazuhError`
//! (and its subclasses) also carries `"ids": [...]` after `dapi_errors`, as Wazuh's `to_dict` adds it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error_codes;
use super::python_json::to_python_json;

/// The Python class of a Wazuh exception (`__class__`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExceptionClass {
    /// `WazuhClusterError`, title "Wazuh Cluster Error": what the cluster raises.
    Cluster,
    /// `WazuhInternalError`, title "Wazuh Internal Error": unexpected errors (code 1000).
    Internal,
    /// `WazuhError`, title "Bad Request": a request that cannot be served.
    Error,
    /// Any other class name a peer sent (e.g. `WazuhPermissionError`), kept as received.
    Other(String),
}

impl ExceptionClass {
    /// The Python class name.
    pub fn name(&self) -> &str {
        match self {
            Self::Cluster => "WazuhClusterError",
            Self::Internal => "WazuhInternalError",
            Self::Error => "WazuhError",
            Self::Other(name) => name,
        }
    }

    /// The default `title` Wazuh gives this class.
    pub fn default_title(&self) -> &str {
        match self {
            Self::Cluster => "Wazuh Cluster Error",
            Self::Internal => "Wazuh Internal Error",
            Self::Error => "Bad Request",
            Self::Other(name) => name,
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "WazuhClusterError" => Self::Cluster,
            "WazuhInternalError" => Self::Internal,
            "WazuhError" => Self::Error,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A Wazuh exception as carried by an `err` reply, `syn_i_w_m_r`, `syn_m_c_r` and `cancel_task`.
#[derive(Debug, Clone, PartialEq)]
pub struct WazuhException {
    /// The Python class.
    pub class: ExceptionClass,
    /// `type`, `"about:blank"` unless a peer says otherwise.
    pub kind: String,
    /// `title`, the class's default title unless a peer says otherwise.
    pub title: String,
    /// The Wazuh error code (see [`error_codes`]).
    pub code: u32,
    /// Text appended to the code's message.
    pub extra_message: Option<String>,
    /// Text appended to the code's remediation.
    pub extra_remediation: Option<String>,
    /// When true the message is `extra_message` alone, not the catalogue's text.
    pub cmd_error: bool,
    /// Per-node error details of a distributed API call.
    pub dapi_errors: Map<String, Value>,
    /// The `ids` list a `WazuhError` carries; `None` for other classes.
    pub ids: Option<Vec<Value>>,
}

/// Why an error payload could not be read as a Wazuh exception.
#[derive(Debug, thiserror::Error)]
pub enum ExceptionDecodeError {
    /// The payload is not JSON of the expected shape.
    #[error(
        "error payload is not a Wazuh exception ({source}); expected \
         {{\"__wazuh_exception__\": {{\"__class__\": .., \"__object__\": {{\"code\": .., ..}}}}}}"
    )]
    Json {
        /// What serde_json found.
        #[from]
        source: serde_json::Error,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapper {
    #[serde(rename = "__wazuh_exception__")]
    exception: Inner,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AnyWrapper {
    Wazuh(Wrapper),
    Unhandled(UnhandledWrapper),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnhandledWrapper {
    #[serde(rename = "__unhandled_exc__")]
    exception: Unhandled,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unhandled {
    #[serde(rename = "__class__")]
    class: String,
    #[serde(rename = "__args__", default)]
    args: Vec<Value>,
}

impl UnhandledWrapper {
    fn into_exception(self) -> WazuhException {
        let args: Vec<String> = self
            .exception
            .args
            .iter()
            .map(|arg| match arg {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect();
        WazuhException::internal(error_codes::INTERNAL).with_extra_message(format!(
            "{}: {}",
            self.exception.class,
            args.join(", ")
        ))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inner {
    #[serde(rename = "__class__")]
    class: String,
    #[serde(rename = "__object__")]
    object: Object,
}

#[derive(Serialize, Deserialize)]
struct Object {
    #[serde(rename = "type", default = "about_blank")]
    kind: String,
    #[serde(default)]
    title: Option<String>,
    code: u32,
    #[serde(default)]
    extra_message: Option<String>,
    #[serde(default)]
    extra_remediation: Option<String>,
    #[serde(default)]
    cmd_error: bool,
    #[serde(default)]
    dapi_errors: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ids: Option<Vec<Value>>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

impl WazuhException {
    /// An exception of `class` with `code` and Wazuh's defaults for everything else.
    pub fn new(class: ExceptionClass, code: u32) -> Self {
        let ids = (class == ExceptionClass::Error).then(Vec::new);
        Self {
            title: class.default_title().to_owned(),
            class,
            kind: about_blank(),
            code,
            extra_message: None,
            extra_remediation: None,
            cmd_error: false,
            dapi_errors: Map::new(),
            ids,
        }
    }

    /// A `WazuhClusterError` with `code`.
    pub fn cluster(code: u32) -> Self {
        Self::new(ExceptionClass::Cluster, code)
    }

    /// A `WazuhInternalError` with `code` (usually 1000).
    pub fn internal(code: u32) -> Self {
        Self::new(ExceptionClass::Internal, code)
    }

    /// A `WazuhError` with `code`.
    pub fn error(code: u32) -> Self {
        Self::new(ExceptionClass::Error, code)
    }

    /// Sets `extra_message`.
    pub fn with_extra_message(mut self, extra: impl Into<String>) -> Self {
        self.extra_message = Some(extra.into());
        self
    }

    /// What a peer's `err` reply means, as Wazuh's `process_error_from_peer` reads it: a JSON
    /// exception is decoded; anything else (e.g. `unknown command 'b'foo''`) becomes a
    /// `WazuhClusterError` 3000 whose `extra_message` is the payload text.
    pub fn from_err_reply(payload: &[u8]) -> Self {
        Self::from_json(payload).unwrap_or_else(|_| {
            Self::cluster(error_codes::CLUSTER)
                .with_extra_message(String::from_utf8_lossy(payload).into_owned())
        })
    }

    /// Decodes the JSON wrapper strictly (no trailing bytes, `code` required).
    ///
    /// Wazuh writes a non-Wazuh Python exception as `{"__unhandled_exc__": {"__class__": "KeyError",
    /// "__args__": [..]}}`; that is read as what Wazuh's `dispatch` would have sent for it: a
    /// `WazuhInternalError` 1000 whose `extra_message` is `"<class>: <args>"`.
    pub fn from_json(payload: &[u8]) -> Result<Self, ExceptionDecodeError> {
        let wrapper: AnyWrapper = serde_json::from_slice(payload)?;
        Ok(match wrapper {
            AnyWrapper::Wazuh(wrapper) => Self::from_parts(wrapper.exception),
            AnyWrapper::Unhandled(unhandled) => unhandled.into_exception(),
        })
    }

    /// Decodes an already-parsed JSON value holding the wrapper.
    pub fn from_value(value: Value) -> Result<Self, ExceptionDecodeError> {
        let wrapper: Wrapper = serde_json::from_value(value)?;
        Ok(Self::from_parts(wrapper.exception))
    }

    fn from_parts(inner: Inner) -> Self {
        let class = ExceptionClass::from_name(&inner.class);
        let object = inner.object;
        Self {
            title: object
                .title
                .unwrap_or_else(|| class.default_title().to_owned()),
            class,
            kind: object.kind,
            code: object.code,
            extra_message: object.extra_message,
            extra_remediation: object.extra_remediation,
            cmd_error: object.cmd_error,
            dapi_errors: object.dapi_errors,
            ids: object.ids,
        }
    }

    /// The JSON text, byte-identical to Python's `json.dumps(e, cls=WazuhJSONEncoder)`.
    pub fn to_json(&self) -> String {
        let wrapper = Wrapper {
            exception: Inner {
                class: self.class.name().to_owned(),
                object: Object {
                    kind: self.kind.clone(),
                    title: Some(self.title.clone()),
                    code: self.code,
                    extra_message: self.extra_message.clone(),
                    extra_remediation: self.extra_remediation.clone(),
                    cmd_error: self.cmd_error,
                    dapi_errors: self.dapi_errors.clone(),
                    ids: self.ids.clone(),
                },
            },
        };
        to_python_json(&wrapper)
    }

    /// The message Wazuh computes: the catalogue text, followed by `": " + extra_message` when
    /// there is one; `extra_message` alone for `cmd_error` or a code outside the catalogue
    /// (`"None"` when absent, as Python prints it).
    pub fn message(&self) -> String {
        let extra = self.extra_message.as_deref().filter(|e| !e.is_empty());
        match (self.cmd_error, error_codes::message(self.code)) {
            (false, Some(base)) => match extra {
                Some(extra) => format!("{base}: {extra}"),
                None => base.to_owned(),
            },
            _ => self
                .extra_message
                .clone()
                .unwrap_or_else(|| "None".to_owned()),
        }
    }
}

impl fmt::Display for WazuhException {
    /// Python's `str(e)`: `Error <code> - <message>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error {} - {}", self.code, self.message())
    }
}

impl std::error::Error for WazuhException {}

/// The plain-text `err` payload Wazuh sends for a command it does not know:
/// `unknown command 'b'<cmd>''` (Python's `repr` of the bytes inside quotes).
pub fn unknown_command_payload(command: &[u8]) -> String {
    format!("unknown command '{}'", python_bytes_repr(command))
}

/// Python's `repr(bytes)`: `b'...'` with `\\`, `\'`, `\t`, `\n`, `\r` and `\xNN` escapes
/// (or `b"..."` when the bytes hold `'` but no `"`).
fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b if char::from(b) == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_mismatch_is_byte_identical_to_python() {
        assert_eq!(
            WazuhException::cluster(error_codes::VERSION_MISMATCH).to_json(),
            r#"{"__wazuh_exception__": {"__class__": "WazuhClusterError", "__object__": {"type": "about:blank", "title": "Wazuh Cluster Error", "code": 3031, "extra_message": null, "extra_remediation": null, "cmd_error": false, "dapi_errors": {}}}}"#
        );
    }

    #[test]
    fn display_is_python_str() {
        let e = WazuhException::cluster(3028).with_extra_message("worker1");
        assert_eq!(
            e.to_string(),
            "Error 3028 - Worker node ID already exists: worker1"
        );
        assert_eq!(
            WazuhException::cluster(3031).to_string(),
            "Error 3031 - Worker and master versions are not the same"
        );
    }

    #[test]
    fn plain_text_err_becomes_3000() {
        let payload = unknown_command_payload(b"foo");
        assert_eq!(payload, "unknown command 'b'foo''");
        let e = WazuhException::from_err_reply(payload.as_bytes());
        assert_eq!(e.code, 3000);
        assert_eq!(e.class, ExceptionClass::Cluster);
        assert_eq!(
            e.to_string(),
            "Error 3000 - Cluster: unknown command 'b'foo''"
        );
    }

    #[test]
    fn bytes_repr_escapes_like_python() {
        assert_eq!(python_bytes_repr(b"a'b"), "b\"a'b\"");
        assert_eq!(python_bytes_repr(b"a'\"\x00"), "b'a\\'\"\\x00'");
    }

    #[test]
    fn unhandled_python_exception_reads_as_1000() {
        let json = br#"{"__unhandled_exc__": {"__class__": "KeyError", "__args__": ["etc/x"]}}"#;
        let e = WazuhException::from_json(json).unwrap();
        assert_eq!(e.class, ExceptionClass::Internal);
        assert_eq!(
            e.to_string(),
            "Error 1000 - Wazuh Internal Error: KeyError: etc/x"
        );
    }

    #[test]
    fn wazuh_error_carries_ids() {
        let json = WazuhException::error(3022).to_json();
        assert!(
            json.ends_with(r#""dapi_errors": {}, "ids": []}}}"#),
            "{json}"
        );
        assert_eq!(
            WazuhException::from_json(json.as_bytes()).unwrap(),
            WazuhException::error(3022)
        );
    }
}
