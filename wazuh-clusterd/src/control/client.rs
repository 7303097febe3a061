//! Asking the daemon through its control socket: connect, send one request, read the reply.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use thiserror::Error;
use tokio::net::UnixStream;
use tokio_util::codec::Framed;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::WazuhException;
use wazuh_cluster_proto::{CodecError, Command, Limits, Message, MessageCodec};

use super::socket_path;
use crate::clock::SystemClock;

/// How long `cluster_control` waits for the daemon's answer (a worker asks its master, whose
/// own request timeout is 20 s by default).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the daemon gave no answer.
#[derive(Debug, Error)]
pub enum ClientError {
    /// No daemon listens on the socket (missing or refused): Wazuh's error 3012.
    #[error("Cluster is not running.")]
    NotRunning {
        /// The socket tried.
        socket: PathBuf,
    },
    /// Talking to the daemon failed.
    #[error("the conversation with the cluster daemon on {socket} failed: {source}")]
    Io {
        /// The socket.
        socket: PathBuf,
        /// The failure.
        source: io::Error,
    },
    /// The daemon's frames could not be read.
    #[error("the cluster daemon on {socket} sent an unreadable reply: {source}")]
    Codec {
        /// The socket.
        socket: PathBuf,
        /// The decoding failure.
        source: CodecError,
    },
    /// The daemon closed the connection without answering.
    #[error("the cluster daemon on {socket} closed the connection without answering")]
    NoAnswer {
        /// The socket.
        socket: PathBuf,
    },
    /// No answer in time.
    #[error("the cluster daemon on {socket} did not answer within {timeout:?}")]
    Timeout {
        /// The socket.
        socket: PathBuf,
        /// How long it waited.
        timeout: Duration,
    },
    /// The daemon's answer is not the JSON the command returns.
    #[error("the cluster daemon on {socket} answered with something that is not JSON: {source}")]
    NotJson {
        /// The socket.
        socket: PathBuf,
        /// The parsing failure.
        source: serde_json::Error,
    },
    /// The daemon's JSON answer is not the reply the command returns.
    #[error(
        "the cluster daemon on {socket} answered {command} with JSON that is not its reply \
         (is the daemon of another version?): {source}"
    )]
    UnexpectedReply {
        /// The socket.
        socket: PathBuf,
        /// The command asked.
        command: String,
        /// What did not match.
        source: serde_json::Error,
    },
    /// The daemon answered with an error.
    #[error("{0}")]
    Daemon(Box<WazuhException>),
}

/// Sends `command payload` to the daemon of the installation `home` and returns the payload of
/// its `ok` reply.
pub async fn execute(
    home: &Path,
    command: Command,
    payload: impl Into<Bytes>,
    timeout: Duration,
) -> Result<Bytes, ClientError> {
    let socket = socket_path(home);
    let stream = match UnixStream::connect(&socket).await {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(ClientError::NotRunning { socket });
        }
        Err(source) => return Err(ClientError::Io { socket, source }),
    };
    let codec = MessageCodec::new(None, Limits::default(), Arc::new(SystemClock::new()));
    let mut framed = Framed::new(stream, codec);
    let counter = rand::random::<u32>();
    let conversation = async {
        framed
            .send(Message::new(counter, command, payload))
            .await
            .map_err(|source| ClientError::Codec {
                socket: socket.clone(),
                source,
            })?;
        loop {
            match framed.next().await {
                None => {
                    return Err(ClientError::NoAnswer {
                        socket: socket.clone(),
                    });
                }
                Some(Err(source)) => {
                    return Err(ClientError::Codec {
                        socket: socket.clone(),
                        source,
                    });
                }
                Some(Ok(message)) if message.counter != counter => continue,
                Some(Ok(message)) if message.command == names::ERR => {
                    return Err(ClientError::Daemon(Box::new(
                        WazuhException::from_err_reply(&message.payload),
                    )));
                }
                Some(Ok(message)) => return Ok(message.payload),
            }
        }
    };
    match tokio::time::timeout(timeout, conversation).await {
        Ok(result) => result,
        Err(_) => Err(ClientError::Timeout { socket, timeout }),
    }
}
