//! [`PieceCutter`]: the end of a container cut into pieces while zlib writes it, so the
//! compressed metadata is never held in one growing buffer and then copied into pieces.

use std::io::{self, Write};

use super::container::FILE_SEP;

/// The first allocation of a piece when pieces are long (a streamed piece is 5 MiB; an
/// encoder that never cuts has no bound): grown only as bytes arrive.
const FIRST_CAPACITY: usize = 1 << 20;

/// Collects bytes into pieces of `piece_len` (the last one shorter) and watches the bytes
/// written through [`Write`] for [`FILE_SEP`], across the cuts and across writes.
#[derive(Debug)]
pub(crate) struct PieceCutter {
    piece_len: usize,
    pieces: Vec<Vec<u8>>,
    current: Vec<u8>,
    /// The last written bytes, fewer than a separator's length.
    carry: Vec<u8>,
    separator: bool,
}

impl PieceCutter {
    /// Starts with `head` (bytes already laid out, not watched), cut into pieces of
    /// `piece_len` bytes (at least 1).
    pub(crate) fn new(head: Vec<u8>, piece_len: usize) -> Self {
        let mut cutter = Self {
            piece_len: piece_len.max(1),
            pieces: Vec::new(),
            current: Vec::new(),
            carry: Vec::new(),
            separator: false,
        };
        if head.len() < cutter.piece_len {
            cutter.current = head;
        } else {
            cutter.append(&head);
        }
        cutter
    }

    /// Whether the watched bytes contain [`FILE_SEP`].
    pub(crate) fn saw_separator(&self) -> bool {
        self.separator
    }

    /// The pieces, in order.
    pub(crate) fn into_pieces(mut self) -> Vec<Vec<u8>> {
        if !self.current.is_empty() {
            self.pieces.push(self.current);
        }
        self.pieces
    }

    fn append(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.current.capacity() == 0 {
                self.current = Vec::with_capacity(self.piece_len.min(FIRST_CAPACITY));
            }
            let take = (self.piece_len - self.current.len()).min(bytes.len());
            self.current.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.current.len() == self.piece_len {
                self.pieces.push(std::mem::take(&mut self.current));
            }
        }
    }

    fn watch(&mut self, bytes: &[u8]) {
        let keep = FILE_SEP.len() - 1;
        let mut seam = std::mem::take(&mut self.carry);
        seam.extend_from_slice(&bytes[..bytes.len().min(keep)]);
        self.separator |= contains(&seam, FILE_SEP) || contains(bytes, FILE_SEP);
        if bytes.len() >= keep {
            seam.clear();
            seam.extend_from_slice(&bytes[bytes.len() - keep..]);
        } else {
            seam.drain(..seam.len().saturating_sub(keep));
        }
        self.carry = seam;
    }
}

/// Whether `needle` occurs in `haystack`.
pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Write for PieceCutter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.watch(bytes);
        self.append(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(head: &[u8], writes: &[&[u8]], piece_len: usize) -> (Vec<Vec<u8>>, bool) {
        let mut cutter = PieceCutter::new(head.to_vec(), piece_len);
        for bytes in writes {
            cutter.write_all(bytes).unwrap();
        }
        let seen = cutter.saw_separator();
        (cutter.into_pieces(), seen)
    }

    #[test]
    fn pieces_are_the_bytes_in_order_cut_at_the_length() {
        let (pieces, seen) = cut(b"head-", &[b"abc", b"defghij", b"", b"k"], 4);
        assert_eq!(pieces, [&b"head"[..], b"-abc", b"defg", b"hijk"]);
        assert!(!seen);
        let (pieces, _) = cut(b"ab", &[b"c"], usize::MAX);
        assert_eq!(pieces, [b"abc".to_vec()]);
        assert!(cut(b"", &[], 3).0.is_empty());
    }

    #[test]
    fn a_separator_is_found_across_writes_but_not_in_the_head() {
        let sep = FILE_SEP;
        assert!(!cut(sep, &[b"x"], 3).1, "the head is not watched");
        assert!(cut(b"", &[sep], 3).1);
        for split in 1..sep.len() {
            let (a, b) = sep.split_at(split);
            assert!(cut(b"", &[b"zz", a, b, b"zz"], 5).1, "split at {split}");
            // One byte at a time.
            let bytes: Vec<&[u8]> = sep.chunks(1).collect();
            assert!(cut(b"", &bytes, 2).1);
        }
        let mut broken = sep.to_vec();
        broken[3] ^= 1;
        assert!(!cut(b"", &[&broken[..4], &broken[4..]], 3).1);
    }
}
