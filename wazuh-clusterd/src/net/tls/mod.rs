//! Mutual TLS between the nodes (`<tls>`): rustls 0.23 on ring, TLS 1.3 only, the Fernet framing
//! unchanged inside the TLS stream.
//!
//! - The master requires a client certificate that chains to the cluster CA, and accepts a
//!   worker's `hello` only when that certificate is valid for the name in it (its SAN carries
//!   the node name; [`HelloNameBound`]).
//! - A worker requires the master's certificate to chain to the cluster CA. It does not know the
//!   master's node name from `ossec.conf` (`<nodes>` lists addresses), so it checks the chain
//!   only, unless it was redirected to a master named in a 3070 refusal: then that name must be
//!   in the master's certificate too ([`MasterVerifier`]).
//!
//! `wazuh-clusterd certs` makes a CA and node certificates ([`crate::certs`]).

mod name_bound;
mod verifier;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::verify_server_name;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use thiserror::Error;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::config::{ClusterConfig, TlsFiles};

pub(crate) use name_bound::HelloNameBound;
pub(crate) use verifier::MasterVerifier;

/// Longest a TLS handshake may take before the connection is closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the TLS files could not be used.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error(
        "cannot use the TLS file {path} (<tls><{tag}>): {reason}; check the path and that it is PEM"
    )]
    File {
        /// `ca`, `cert` or `key`.
        tag: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// This node's certificate is not valid for its own `<node_name>`: the master would refuse
    /// its `hello`.
    #[error(
        "the certificate {cert} (<tls><cert>) is not valid for this node's name {name:?}; make \
         one for it: wazuh-clusterd certs --ca-dir DIR --node {name}"
    )]
    OtherName {
        /// The certificate file.
        cert: PathBuf,
        /// `<node_name>`.
        name: String,
    },
    /// rustls refused the certificates or key.
    #[error("cannot set up TLS with <tls> ({files}): {source}")]
    Config {
        /// The files, for the operator.
        files: String,
        /// rustls's error.
        source: rustls::Error,
    },
}

/// The loaded `<tls>` of a node: its acceptor (master) and connector (worker) configurations.
#[derive(Clone)]
pub struct ClusterTls {
    server: Arc<ServerConfig>,
    roots: Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl std::fmt::Debug for ClusterTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterTls")
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

fn file_error(tag: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        tag,
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

impl ClusterTls {
    /// The `<tls>` of `config` loaded (relative paths from `home`), or `None` when it has none.
    /// Its certificate must be valid for `<node_name>`.
    pub fn from_config(config: &ClusterConfig, home: &Path) -> Result<Option<Self>, TlsError> {
        let Some(files) = &config.tls else {
            return Ok(None);
        };
        let files = files.under(home);
        let tls = Self::load(&files)?;
        let other_name = || TlsError::OtherName {
            cert: files.cert.clone(),
            name: config.node_name.clone(),
        };
        let parsed = ParsedCertificate::try_from(&tls.chain[0]).map_err(|_| other_name())?;
        let name = ServerName::try_from(config.node_name.as_str()).map_err(|_| other_name())?;
        verify_server_name(&parsed, &name).map_err(|_| other_name())?;
        Ok(Some(tls))
    }

    /// Reads the CA certificate, this node's chain and key.
    pub fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        let certs = |tag, path: &Path| -> Result<Vec<CertificateDer<'static>>, TlsError> {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| file_error(tag, path, e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| file_error(tag, path, e))?;
            if certs.is_empty() {
                return Err(file_error(tag, path, "no CERTIFICATE block"));
            }
            Ok(certs)
        };
        let mut roots = RootCertStore::empty();
        for ca in certs("ca", &files.ca)? {
            roots.add(ca).map_err(|e| file_error("ca", &files.ca, e))?;
        }
        let chain = certs("cert", &files.cert)?;
        let key = PrivateKeyDer::from_pem_file(&files.key)
            .map_err(|e| file_error("key", &files.key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(roots);
        let config_error = |source| TlsError::Config {
            files: format!(
                "{}, {}, {}",
                files.ca.display(),
                files.cert.display(),
                files.key.display()
            ),
            source,
        };
        let client_verifier =
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                .build()
                .map_err(|e| config_error(rustls::Error::General(e.to_string())))?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(config_error)?
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(config_error)?;
        let tls = Self {
            server: Arc::new(server),
            roots,
            chain,
            key: Arc::new(key),
            provider,
        };
        // Build a client configuration once so that a bad key fails at start, not at connect.
        tls.client(None).map_err(config_error)?;
        Ok(tls)
    }

    /// The master's acceptor.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.server.clone())
    }

    /// A worker's connector; `master` is the master's node name when known.
    pub fn connector(&self, master: Option<&str>) -> Result<TlsConnector, rustls::Error> {
        self.client(master).map(|c| TlsConnector::from(Arc::new(c)))
    }

    fn client(&self, master: Option<&str>) -> Result<ClientConfig, rustls::Error> {
        let verifier = MasterVerifier::new(
            self.roots.clone(),
            self.provider.clone(),
            master.map(str::to_owned),
        );
        ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
    }
}
