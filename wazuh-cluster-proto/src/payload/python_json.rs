//! JSON text exactly as Python's `json.dumps(obj)` writes it with default arguments.
//!
//! Python separates items with `", "` and keys from values with `": "`, and escapes every
//! non-ASCII character and DEL as `\uXXXX` (lowercase hex, UTF-16 surrogate pairs above the BMP)
//! because `ensure_ascii=True`. Wazuh peers parse any valid JSON, so this matters only where
//! byte-for-byte equality with a Python node is wanted (the error payload).

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// A `serde_json` formatter producing Python's `json.dumps` layout.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, ch) in fragment.char_indices() {
            // Python escapes everything outside space..tilde, DEL included.
            if ch.is_ascii() && ch != '\x7f' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..at])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = at + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Serializes `value` as Python's `json.dumps(value)` would.
pub(crate) fn to_python_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value
        .serialize(&mut serializer)
        .expect("serializing plain data into memory cannot fail");
    String::from_utf8(out).expect("the formatter writes ASCII only")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_separators_and_ascii_escapes() {
        let value = serde_json::json!({"a": [1, 2], "b": "é😀\n\u{7f}"});
        assert_eq!(
            to_python_json(&value),
            r#"{"a": [1, 2], "b": "\u00e9\ud83d\ude00\n\u007f"}"#
        );
    }
}
