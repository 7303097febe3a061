//! The master's binding of a worker's `hello` to its certificate: the name in `hello` must be
//! one the worker's client certificate is valid for (its SAN), so a node can only join under
//! the name the cluster CA gave it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Sink, Stream};
use rustls::client::verify_server_name;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::ParsedCertificate;
use wazuh_cluster_core::{BoxTransport, TransportError};
use wazuh_cluster_proto::Message;
use wazuh_cluster_proto::command::names;

/// A transport that ends with an error when a `hello` names a node the peer's certificate is
/// not valid for.
pub(crate) struct HelloNameBound {
    inner: BoxTransport,
    certificate: Option<CertificateDer<'static>>,
    peer: SocketAddr,
}

impl HelloNameBound {
    /// Wraps `inner`, whose peer presented `certificate` (its end-entity certificate).
    pub(crate) fn new(
        inner: BoxTransport,
        certificate: Option<CertificateDer<'static>>,
        peer: SocketAddr,
    ) -> Self {
        Self {
            inner,
            certificate,
            peer,
        }
    }

    /// Whether the certificate is valid for the node name `hello` starts with.
    fn check(&self, hello: &[u8]) -> Result<(), String> {
        let name = String::from_utf8_lossy(hello.split(|&b| b == b' ').next().unwrap_or(&[]));
        let certificate = self
            .certificate
            .as_ref()
            .ok_or_else(|| "it presented no certificate".to_owned())?;
        let parsed = ParsedCertificate::try_from(certificate).map_err(|e| e.to_string())?;
        let server_name = ServerName::try_from(name.as_ref())
            .map_err(|_| format!("{name:?} cannot be a certificate name"))?;
        verify_server_name(&parsed, &server_name).map_err(|_| {
            format!("its certificate is not valid for the node name {name:?} of its hello")
        })
    }
}

impl Stream for HelloNameBound {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(message))) = &item
            && message.command == names::HELLO
            && let Err(reason) = self.check(&message.payload)
        {
            tracing::error!(
                tag = "Master",
                subtag = "Main",
                "Refused the hello from {}: {reason}; closing the connection.",
                self.peer
            );
            return Poll::Ready(Some(Err(TransportError::new(self.peer, reason))));
        }
        item
    }
}

impl Sink<Message> for HelloNameBound {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.as_mut().poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        self.inner.as_mut().start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.as_mut().poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.as_mut().poll_close(cx)
    }
}
