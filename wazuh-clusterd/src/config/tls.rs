//! `<tls>` inside `<cluster>`: mutual TLS between the nodes, off by default (Python Wazuh nodes
//! speak plain TCP). Three file paths, PEM: the cluster CA's certificate (`<ca>`), this node's
//! certificate chain (`<cert>`, its SAN carrying `<node_name>`) and its private key (`<key>`).
//! Relative paths are relative to the installation folder. The files are read at start.

use std::path::{Path, PathBuf};

use super::error::{ConfigWarning, FieldError};
use super::parse::RawField;

/// The three PEM files of `<tls>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// `<ca>`: the cluster CA's certificate, which every node's certificate must chain to.
    pub ca: PathBuf,
    /// `<cert>`: this node's certificate (then any intermediates).
    pub cert: PathBuf,
    /// `<key>`: this node's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files with relative paths taken from `home`.
    pub fn under(&self, home: &Path) -> TlsFiles {
        TlsFiles {
            ca: home.join(&self.ca),
            cert: home.join(&self.cert),
            key: home.join(&self.key),
        }
    }
}

/// What each child of `<tls>` takes.
const ALLOWED: &str = "a path to a PEM file (relative paths start at the installation folder)";

/// The `<tls>` block read from `children` (its start tag on `line`).
pub(crate) fn tls_files(
    line: usize,
    children: &[RawField],
    warnings: &mut Vec<ConfigWarning>,
    errors: &mut Vec<FieldError>,
) -> Option<TlsFiles> {
    let mut found: [Option<PathBuf>; 3] = [None, None, None];
    let mut ok = true;
    for field in children {
        let Some(slot) = ["ca", "cert", "key"].iter().position(|t| *t == field.tag) else {
            warnings.push(ConfigWarning::UnknownTag {
                tag: field.tag.clone(),
                parent: "tls".to_owned(),
                line: field.line,
            });
            continue;
        };
        if found[slot].is_some() {
            warnings.push(ConfigWarning::Repeated {
                tag: format!("tls/{}", field.tag),
                line: field.line,
            });
        }
        if field.text.is_empty() {
            errors.push(FieldError::Invalid {
                field: format!("tls/{}", field.tag),
                value: String::new(),
                line: field.line,
                allowed: ALLOWED.to_owned(),
            });
            ok = false;
        } else {
            found[slot] = Some(PathBuf::from(&field.text));
        }
    }
    for (slot, tag) in ["ca", "cert", "key"].iter().enumerate() {
        if found[slot].is_none() && ok {
            errors.push(FieldError::Invalid {
                field: format!("tls/{tag}"),
                value: String::new(),
                line,
                allowed: format!("<tls> needs <ca>, <cert> and <key>: {ALLOWED}"),
            });
            ok = false;
        }
    }
    let [ca, cert, key] = found;
    Some(TlsFiles {
        ca: ca?,
        cert: cert?,
        key: key?,
    })
    .filter(|_| ok)
}
