//! How a worker checks its master's certificate: it must chain to the cluster CA; its names are
//! checked only when the worker knows the master's node name (after a 3070 redirection), since
//! `<nodes>` gives addresses, not names.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{CryptoProvider, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// The worker's check of the master's certificate.
#[derive(Debug)]
pub(crate) struct MasterVerifier {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    master: Option<String>,
}

impl MasterVerifier {
    /// Chains to `roots`; when `master` is given, the certificate must be valid for that name.
    pub(crate) fn new(
        roots: Arc<RootCertStore>,
        provider: Arc<CryptoProvider>,
        master: Option<String>,
    ) -> Self {
        Self {
            roots,
            provider,
            master,
        }
    }
}

impl ServerCertVerifier for MasterVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        if let Some(master) = &self.master {
            let name = ServerName::try_from(master.as_str())
                .map_err(|e| Error::General(format!("master name {master:?}: {e}")))?;
            verify_server_name(&cert, &name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(Error::General(
            "TLS 1.2 is not allowed between cluster nodes".to_owned(),
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::pem::PemObject;

    use super::*;

    #[test]
    fn the_chain_is_checked_and_the_name_only_when_known() {
        let dir = tempfile::tempdir().unwrap();
        crate::certs::make(dir.path(), &["master01".to_owned()]).unwrap();
        let other = tempfile::tempdir().unwrap();
        crate::certs::make(other.path(), &["master01".to_owned()]).unwrap();
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(dir.path().join("ca.pem")).unwrap())
            .unwrap();
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verify = |master: Option<&str>, cert_dir: &std::path::Path| {
            let cert = CertificateDer::from_pem_file(cert_dir.join("master01.pem")).unwrap();
            MasterVerifier::new(roots.clone(), provider.clone(), master.map(str::to_owned))
                .verify_server_cert(
                    &cert,
                    &[],
                    &ServerName::try_from("127.0.0.1").unwrap(),
                    &[],
                    UnixTime::now(),
                )
                .is_ok()
        };
        assert!(
            verify(None, dir.path()),
            "chain only: an address is not a name"
        );
        assert!(verify(Some("master01"), dir.path()));
        assert!(
            !verify(Some("master02"), dir.path()),
            "another master's name"
        );
        assert!(!verify(None, other.path()), "another CA");
    }
}
