//! A hostile peer speaking the cluster protocol by hand over a blocking socket, for the tests
//! that play one against the real daemon.
// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{Command, Fernet, Limits, Message, MessageDecoder};

/// How long a peer waits for the master to answer.
pub const WAIT: Duration = Duration::from_secs(30);

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// One encrypted frame sequence for `message`, dated now.
pub fn wire(fernet: &Fernet, message: &Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    wazuh_cluster_proto::encode_message(message, Some(fernet), now(), &mut out);
    out.to_vec()
}

/// A hostile peer speaking the cluster protocol by hand.
pub struct Peer {
    stream: TcpStream,
    decoder: MessageDecoder,
    fernet: Fernet,
    counter: u32,
}

impl Peer {
    pub fn connect(port: u16, fernet: &Fernet) -> Peer {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        Peer {
            stream,
            decoder: MessageDecoder::new(Some(fernet.clone()), Limits::default()),
            fernet: fernet.clone(),
            counter: 10,
        }
    }

    /// Connects and says `hello` as `name`; panics unless the master accepts it.
    pub fn worker(port: u16, fernet: &Fernet, name: &str) -> Peer {
        let mut peer = Peer::connect(port, fernet);
        let reply = peer.request(names::HELLO, format!("{name} demo worker 4.9.2").as_bytes());
        assert_eq!(reply.map(|m| m.command), Some(names::OK), "hello of {name}");
        peer
    }

    /// Writes `bytes`; `false` once the master closed the connection.
    pub fn send_raw(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Sends a request without waiting for its reply; `false` once the connection closed.
    pub fn send(&mut self, command: Command, payload: &[u8]) -> bool {
        self.counter += 1;
        let message = Message::new(self.counter, command, payload.to_vec());
        let frames = wire(&self.fernet, &message);
        self.send_raw(&frames)
    }

    /// The next message; `None` when the connection closed or nothing came in time.
    pub fn read(&mut self) -> Option<Message> {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            if let Some(decoded) = self.decoder.next_message(Duration::ZERO).ok()? {
                return Some(decoded.message);
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(_) => return None,
            }
        }
    }

    /// Sends a request and returns its reply, answering the master's own requests with `ok`.
    pub fn request(&mut self, command: Command, payload: &[u8]) -> Option<Message> {
        if !self.send(command, payload) {
            return None;
        }
        let counter = self.counter;
        loop {
            let message = self.read()?;
            if message.counter == counter {
                return Some(message);
            }
            let answer = Message::new(message.counter, names::OK, b"ok".to_vec());
            let frames = wire(&self.fernet, &answer);
            self.send_raw(&frames);
        }
    }

    pub fn is_err(reply: &Option<Message>) -> bool {
        reply.as_ref().is_none_or(|m| m.command == names::ERR)
    }

    /// Whether the master closed the connection (read returns nothing within a few seconds).
    pub fn closed(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) => {
                    return !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut);
                }
            }
        }
    }
}
