//! A connection's read and write buffers given back after a large message.
//!
//! `Framed` keeps each buffer at the largest size it ever reached: one `file_upd` of a sync
//! container (5 MiB of plaintext, a 7 MiB Fernet token) left 7 MiB in the write buffer of every
//! worker's connection on the master for the rest of the session, and large agent-info chunks
//! about 2 MiB in each read buffer (heaptrack on the master with 10 workers: 70 MB and 21 MB of
//! its 180 MB live heap). After a message over [`KEEP`], the buffer is replaced by a small one
//! once what it holds fits in one: the next large message allocates again, which costs little
//! beside encrypting or decrypting it.

use bytes::BytesMut;
use tokio_util::codec::Framed;

/// Bytes a buffer may keep between messages; a message over this frees its buffer after it.
pub(crate) const KEEP: usize = 64 * 1024;

/// The capacity of a fresh read buffer (`Framed`'s own initial capacity).
const READ_CAPACITY: usize = 8 * 1024;

/// Which of a connection's buffers grew past [`KEEP`] since they were last replaced.
#[derive(Debug, Default)]
pub(crate) struct BufferRelease {
    read_grew: bool,
    write_grew: bool,
}

impl BufferRelease {
    /// After a message of `payload_len` bytes was decoded: replaces the read buffer once it
    /// grew and holds at most [`KEEP`] bytes (the start of the next message, copied over).
    pub fn after_read<S, C>(&mut self, framed: &mut Framed<S, C>, payload_len: usize) {
        let buffer = framed.read_buffer_mut();
        self.read_grew |= payload_len > KEEP || buffer.capacity() > KEEP;
        if self.read_grew && buffer.len() <= KEEP {
            let mut fresh = BytesMut::with_capacity(READ_CAPACITY.max(buffer.len()));
            fresh.extend_from_slice(buffer);
            *buffer = fresh;
            self.read_grew = false;
        }
    }

    /// After a message was encoded into the write buffer.
    pub fn after_send<S, C>(&mut self, framed: &Framed<S, C>) {
        self.write_grew |= framed.write_buffer().len() > KEEP;
    }

    /// After a flush that succeeded: replaces the write buffer once it grew and is empty.
    pub fn after_flush<S, C>(&mut self, framed: &mut Framed<S, C>) {
        if self.write_grew && framed.write_buffer().is_empty() {
            *framed.write_buffer_mut() = BytesMut::new();
            self.write_grew = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::{SinkExt, StreamExt};
    use tokio_util::codec::LengthDelimitedCodec;

    use super::*;

    #[tokio::test]
    async fn buffers_are_replaced_after_a_large_message_only() {
        let (near, far) = tokio::io::duplex(1 << 20);
        let mut sender = Framed::new(near, LengthDelimitedCodec::new());
        let mut receiver = Framed::new(far, LengthDelimitedCodec::new());
        let (mut sent, mut received) = (BufferRelease::default(), BufferRelease::default());

        sender.send(Bytes::from(vec![7u8; 100])).await.unwrap();
        sent.after_send(&sender);
        sent.after_flush(&mut sender);
        assert!(
            sender.write_buffer().capacity() > 0,
            "a small message keeps its buffer"
        );
        let small = receiver.next().await.unwrap().unwrap();
        received.after_read(&mut receiver, small.len());
        assert!(!received.read_grew);

        sender.feed(Bytes::from(vec![7u8; 600_000])).await.unwrap();
        sent.after_send(&sender);
        assert!(sender.write_buffer().capacity() >= 600_000);
        SinkExt::<Bytes>::flush(&mut sender).await.unwrap();
        sent.after_flush(&mut sender);
        assert_eq!(
            sender.write_buffer().capacity(),
            0,
            "the large buffer is given back"
        );

        let large = receiver.next().await.unwrap().unwrap();
        assert_eq!(large.len(), 600_000);
        drop(large);
        received.after_read(&mut receiver, 600_000);
        assert!(!received.read_grew);
        assert_eq!(receiver.read_buffer().capacity(), READ_CAPACITY);
    }
}
