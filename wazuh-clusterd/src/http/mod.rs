//! A minimal HTTP/1.1 server for the operations endpoints: `GET` and `HEAD` only, one request
//! per connection (`Connection: close`), the request head capped at [`MAX_REQUEST`] bytes and
//! read within [`READ_TIMEOUT`], at most [`MAX_CONNECTIONS`] connections at a time. Enough for
//! Prometheus, HAProxy's `option httpchk` and curl; nothing else is meant to talk to it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Longest request head accepted.
pub const MAX_REQUEST: usize = 8 * 1024;
/// Time a client has to send its request head, and to take the reply.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 16;

/// A reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body (not sent for `HEAD`).
    pub body: String,
}

impl Response {
    /// A plain-text reply.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }
}

/// What answers `GET path`.
#[async_trait]
pub trait Endpoints: Send + Sync {
    /// The reply to `GET path` (query string removed); 404 for unknown paths.
    async fn get(&self, path: &str) -> Response;
}

/// A bound server.
#[derive(Debug)]
pub struct HttpServer {
    listener: TcpListener,
}

impl HttpServer {
    /// Listens on `addr`.
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `endpoints` until dropped.
    pub async fn serve(self, endpoints: Arc<dyn Endpoints>) {
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let stream = match self.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::debug!(tag = "Cluster", subtag = "HTTP", "accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let endpoints = endpoints.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(2 * READ_TIMEOUT, exchange(stream, &*endpoints)).await;
                drop(permit);
            });
        }
    }
}

/// Reads one request head, answers it, closes.
async fn exchange(mut stream: TcpStream, endpoints: &dyn Endpoints) -> io::Result<()> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
            let refused = Response::text(431, "request head too large\n");
            write(&mut stream, &refused, true).await?;
            // Read what the client still sends, so that closing does not reset the connection
            // before it has read the reply.
            let mut sink = [0u8; 4096];
            let drain = async { while stream.read(&mut sink).await.is_ok_and(|n| n > 0) {} };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
            return Ok(());
        }
        Ok(Err(error)) => return Err(error),
        Err(_) => return write(&mut stream, &Response::text(408, "timeout\n"), true).await,
    };
    let mut words = head.lines().next().unwrap_or("").split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let response = match method {
        "GET" | "HEAD" => endpoints.get(path).await,
        _ => Response::text(405, "only GET and HEAD\n"),
    };
    write(&mut stream, &response, method != "HEAD").await
}

/// The request head up to its blank line, or `None` when it exceeds [`MAX_REQUEST`].
async fn read_head(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            buffer.truncate(end);
            return Ok(Some(String::from_utf8_lossy(&buffer).into_owned()));
        }
        if buffer.len() > MAX_REQUEST {
            return Ok(None);
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn write(stream: &mut TcpStream, response: &Response, body: bool) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    if response.status == 405 {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    if body {
        out.push_str(&response.body);
    }
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;

    #[async_trait]
    impl Endpoints for Echo {
        async fn get(&self, path: &str) -> Response {
            match path {
                "/hello" => Response::text(200, "hi\n"),
                _ => Response::text(404, "no\n"),
            }
        }
    }

    async fn ask(addr: SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut reply = String::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut reply))
            .await
            .unwrap()
            .unwrap();
        reply
    }

    #[tokio::test]
    async fn answers_get_and_head_and_refuses_the_rest() {
        let server = HttpServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(server.serve(Arc::new(Echo)));
        let ok = ask(addr, b"GET /hello?x=1 HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(
            ok.contains("Content-Length: 3\r\n") && ok.ends_with("\r\n\r\nhi\n"),
            "{ok}"
        );
        let head = ask(addr, b"HEAD /hello HTTP/1.0\r\n\r\n").await;
        assert!(
            head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"),
            "{head}"
        );
        let missing = ask(addr, b"GET /nope HTTP/1.1\r\n\r\n").await;
        assert!(missing.starts_with("HTTP/1.1 404 "), "{missing}");
        let post = ask(addr, b"POST /hello HTTP/1.1\r\n\r\n").await;
        assert!(
            post.starts_with("HTTP/1.1 405 ") && post.contains("Allow: GET, HEAD"),
            "{post}"
        );
        let mut huge = b"GET /hello HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST + 10));
        let refused = ask(addr, &huge).await;
        assert!(refused.starts_with("HTTP/1.1 431 "), "{refused}");
    }
}
