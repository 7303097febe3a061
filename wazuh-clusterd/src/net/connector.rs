//! The worker's way to its master.

use std::time::Duration;

use async_trait::async_trait;
use tokio::net::TcpStream;
use wazuh_cluster_core::{Connection, Connector, TransportError};
use wazuh_cluster_proto::Fernet;

use super::transport::tcp_transport;
use crate::clock::SystemClock;

/// Longest wait for the master to accept a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the master at `host:port` (the first `<node>` and `<port>`).
#[derive(Debug, Clone)]
pub struct TcpConnector {
    host: String,
    port: u16,
    fernet: Fernet,
    clock: SystemClock,
    tag: String,
}

impl TcpConnector {
    /// A connector to `host:port` (an IP or a host name) encrypting with `fernet`; `tag` is the
    /// worker's log tag.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        fernet: Fernet,
        clock: SystemClock,
        tag: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            fernet,
            clock,
            tag: tag.into(),
        }
    }
}

#[async_trait]
impl Connector for TcpConnector {
    async fn connect(&self) -> Result<Connection, TransportError> {
        let target = format!("{}:{}", self.host, self.port);
        let stream = match tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(TransportError::new(&target, e)),
            Err(_) => {
                return Err(TransportError::new(
                    &target,
                    format!("no answer within {CONNECT_TIMEOUT:?}"),
                ));
            }
        };
        let peer = stream
            .peer_addr()
            .map_err(|e| TransportError::new(&target, e))?;
        Ok(Connection {
            transport: tcp_transport(
                stream,
                peer,
                self.fernet.clone(),
                self.clock,
                self.tag.clone(),
            ),
            peer,
        })
    }
}
