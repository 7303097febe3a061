//! `wazuh-clusterd certs --ca-dir DIR --node NAME...`: a cluster CA and one certificate per node
//! for `<tls>`, made with rcgen (ECDSA P-256).
//!
//! In `DIR`: `ca.pem` and `ca.key` (created on the first run, reused after, so nodes can be
//! added later), and `NAME.pem` / `NAME.key` per node. A node certificate carries the node name
//! as its DNS subject alternative name, which the master compares with the name in `hello`, and
//! may be used as TLS server and client (a node may be master or worker). Keys are written 0600.
//! A CA written by another tool can be used in `<tls>` as well; this command reuses only its own.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use thiserror::Error;
use wazuh_cluster_proto::payload::validate_node_name;

/// The start of the CA's common name; the rest identifies its key, so that two clusters' CAs
/// never share an issuer name.
const CA_NAME: &str = "Wazuh cluster CA";
/// How long certificates are valid, in days.
const VALID_DAYS: i64 = 3650;

/// Why certificates could not be made.
#[derive(Debug, Error)]
pub enum CertsError {
    /// A node name is not one Wazuh accepts.
    #[error("node name {name:?}: {reason}")]
    NodeName {
        /// The name given.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    File {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// rcgen refused.
    #[error("cannot make the certificate of {subject}: {source}")]
    Generate {
        /// The CA or the node.
        subject: String,
        /// rcgen's error.
        source: rcgen::Error,
    },
}

/// What `certs` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The CA certificate.
    pub ca: PathBuf,
    /// Whether the CA was created now (false: reused).
    pub ca_created: bool,
    /// Each node's certificate and key.
    pub nodes: Vec<(PathBuf, PathBuf)>,
}

fn generate_error(subject: &str) -> impl FnOnce(rcgen::Error) -> CertsError + '_ {
    move |source| CertsError::Generate {
        subject: subject.to_owned(),
        source,
    }
}

fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), CertsError> {
    let fail = |action, source| CertsError::File {
        action,
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| fail("write", e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| fail("write", e))
}

fn validity(params: &mut CertificateParams) {
    let now = rcgen::date_time_ymd(1970, 1, 1)
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
    params.not_before = now - std::time::Duration::from_secs(3600);
    params.not_after = now + std::time::Duration::from_secs(VALID_DAYS as u64 * 86_400);
}

/// The CA's parameters for `key` (the same on every run, so a reused key signs as the same
/// issuer): its common name ends with the first bytes of its public key.
fn ca_params(key: &KeyPair) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    let id: String = key
        .public_key_raw()
        .iter()
        .skip(1)
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    name.push(DnType::CommonName, format!("{CA_NAME} {id}"));
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params);
    params
}

/// Makes (or reuses) the CA in `dir` and a certificate for each of `nodes`.
pub fn make(dir: &Path, nodes: &[String]) -> Result<Written, CertsError> {
    for name in nodes {
        validate_node_name(name).map_err(|e| CertsError::NodeName {
            name: name.clone(),
            reason: e.to_string(),
        })?;
    }
    std::fs::create_dir_all(dir).map_err(|source| CertsError::File {
        action: "create the folder",
        path: dir.to_path_buf(),
        source,
    })?;
    let (ca_cert_path, ca_key_path) = (dir.join("ca.pem"), dir.join("ca.key"));
    let ca_created = !ca_key_path.exists();
    let ca_key = if ca_created {
        let key = KeyPair::generate().map_err(generate_error(CA_NAME))?;
        let cert = ca_params(&key)
            .self_signed(&key)
            .map_err(generate_error(CA_NAME))?;
        write_file(&ca_key_path, &key.serialize_pem(), 0o600)?;
        write_file(&ca_cert_path, &cert.pem(), 0o644)?;
        key
    } else {
        let pem = std::fs::read_to_string(&ca_key_path).map_err(|source| CertsError::File {
            action: "read",
            path: ca_key_path.clone(),
            source,
        })?;
        KeyPair::from_pem(&pem).map_err(generate_error(CA_NAME))?
    };
    let issuer = Issuer::new(ca_params(&ca_key), ca_key);
    let mut written = Vec::new();
    for name in nodes {
        let mut params =
            CertificateParams::new(vec![name.clone()]).map_err(generate_error(name))?;
        params
            .distinguished_name
            .push(DnType::CommonName, name.as_str());
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        validity(&mut params);
        let key = KeyPair::generate().map_err(generate_error(name))?;
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(generate_error(name))?;
        let (cert_path, key_path) = (
            dir.join(format!("{name}.pem")),
            dir.join(format!("{name}.key")),
        );
        write_file(&key_path, &key.serialize_pem(), 0o600)?;
        write_file(&cert_path, &cert.pem(), 0o644)?;
        written.push((cert_path, key_path));
    }
    Ok(Written {
        ca: ca_cert_path,
        ca_created,
        nodes: written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TlsFiles;
    use crate::net::ClusterTls;

    #[test]
    fn node_certificates_load_as_tls_and_the_ca_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = make(dir.path(), &["master01".to_owned()]).unwrap();
        assert!(first.ca_created);
        let ca = std::fs::read(&first.ca).unwrap();
        let second = make(dir.path(), &["worker01".to_owned()]).unwrap();
        assert!(!second.ca_created);
        assert_eq!(std::fs::read(&second.ca).unwrap(), ca, "the CA is kept");
        for (cert, key) in first.nodes.iter().chain(&second.nodes) {
            ClusterTls::load(&TlsFiles {
                ca: first.ca.clone(),
                cert: cert.clone(),
                key: key.clone(),
            })
            .unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("worker01.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(make(dir.path(), &["bad name".to_owned()]).is_err());
    }
}
