//! A node spoken by hand over a raw simulated connection.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use wazuh_cluster_core::transport::Connection;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{FileSender, TransferPath};
use wazuh_cluster_proto::{Command, Message};

/// One end of a connection driven by the test.
pub struct Raw {
    /// The connection.
    pub conn: Connection,
    counter: u32,
    /// Requests the peer sent, by command, in order.
    pub seen: Vec<Command>,
}

/// How long a request waits for its reply.
const WAIT: Duration = Duration::from_secs(30);

impl Raw {
    /// Wraps a connection.
    pub fn new(conn: Connection) -> Self {
        Self {
            conn,
            counter: 1000,
            seen: Vec::new(),
        }
    }

    /// The next message, `None` if the connection closed or nothing came within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Message> {
        tokio::select! {
            biased;
            item = self.conn.transport.next() => item.and_then(Result::ok),
            () = tokio::time::sleep(wait) => None,
        }
    }

    /// Answers a request of the peer as a passive node would: `False` to permission requests,
    /// `ok-m` to keepalives, `ok` to the rest.
    async fn answer(&mut self, request: &Message) {
        self.seen.push(request.command);
        let (command, payload): (Command, Vec<u8>) = match request.command {
            c if c == names::SYN_I_W_M_P => (names::OK, b"False".to_vec()),
            c if c == names::ECHO_C => (names::OK_M, request.payload.to_vec()),
            _ => (names::OK, b"ok".to_vec()),
        };
        self.send(Message::new(request.counter, command, payload))
            .await;
    }

    /// Sends a message as is.
    pub async fn send(&mut self, message: Message) {
        self.conn
            .transport
            .send(message)
            .await
            .expect("send on a raw connection");
    }

    /// Sends a request and returns its reply, answering the peer's own requests meanwhile;
    /// `None` if no reply came.
    pub async fn request(&mut self, command: Command, payload: &[u8]) -> Option<Message> {
        self.counter += 1;
        let counter = self.counter;
        self.send(Message::new(counter, command, payload.to_vec()))
            .await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.next(left).await?;
            if message.counter == counter {
                return Some(message);
            }
            self.answer(&message).await;
        }
    }

    /// Waits for the peer's next request of `command` (answering the others), at most `wait`.
    pub async fn expect_request(&mut self, command: Command, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.next(left).await?;
            if message.command == command {
                self.seen.push(message.command);
                return Some(message);
            }
            self.answer(&message).await;
        }
    }

    /// Keeps answering the peer for `wait`.
    pub async fn serve_for(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match self.next(left).await {
                Some(message) => self.answer(&message).await,
                None => return,
            }
        }
    }

    /// Sends a file with `new_file`/`file_upd`/`file_end`; the reply command of each step.
    pub async fn send_file(&mut self, path: &str, data: &[u8]) -> Vec<Command> {
        let path = TransferPath::new(path).expect("a valid transfer path");
        let mut replies = Vec::new();
        for (command, payload) in FileSender::new(path, data) {
            let reply = self.request(command, &payload).await.expect("a reply");
            replies.push(reply.command);
        }
        replies
    }

    /// Sends `command` (`syn_i_w_m`, `syn_m_c`) and returns the task id the peer answers.
    pub async fn start_task(&mut self, command: Command) -> String {
        let reply = self
            .request(command, b"")
            .await
            .unwrap_or_else(|| panic!("{command} reply"));
        String::from_utf8(reply.payload.to_vec()).unwrap()
    }

    /// Answers the peer's `request` with `ok`.
    pub async fn reply_ok(&mut self, request: &Message) {
        self.send(Message::new(request.counter, names::OK, b"ok".to_vec()))
            .await;
    }

    /// Starts `/<folder>big.zip` and sends it a 32 KiB chunk; the replies to `new_file` and to
    /// `file_upd`.
    pub async fn send_oversized(&mut self, folder: &str) -> (Option<Message>, Option<Message>) {
        let path = format!("/{folder}big.zip");
        let started = self.request(names::NEW_FILE, path.as_bytes()).await;
        let mut upd = format!("{path} ").into_bytes();
        upd.extend(vec![7u8; 32 << 10]);
        (started, self.request(names::FILE_UPD, &upd).await)
    }

    /// Sends `data` as the file `path` of task `tid`, then the `end` command naming it
    /// (`syn_i_w_m_e`, `syn_m_c_e`); the reply commands of the transfer and the reply to `end`.
    pub async fn send_task_file(
        &mut self,
        end: Command,
        tid: &str,
        path: &str,
        data: &[u8],
    ) -> (Vec<Command>, Option<Message>) {
        let replies = self.send_file(path, data).await;
        let relpath = path.strip_prefix('/').unwrap_or(path);
        let ended = self
            .request(end, format!("{tid} {relpath}").as_bytes())
            .await;
        (replies, ended)
    }

    /// Whether a reply is `err`.
    pub fn is_err(reply: &Option<Message>) -> bool {
        reply.as_ref().is_some_and(|m| m.command == names::ERR)
    }
}
