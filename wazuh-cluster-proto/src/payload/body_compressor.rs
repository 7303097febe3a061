//! [`BodyCompressor`]: zlib at Wazuh's level, one compression state for many files.
//!
//! A zlib compression state is about 270 KB (window, hash chains, pending output), allocated
//! and cleared for each stream: a container of 50,000 files of 2 KB set one up 50,000 times,
//! which cost more than compressing the files and kept the allocator handing out and taking
//! back large blocks. The compressor resets one state between files instead; the bytes are
//! those of a new state.

use flate2::{Compress, Compression, FlushCompress, Status};

use super::container::COMPRESS_LEVEL;

/// Room reserved in the output per attempt, beyond half the input (zlib's worst case grows the
/// input by a few bytes per 16 KB block; an attempt that runs out of room is followed by
/// another).
const OUTPUT_SLACK: usize = 64;

/// Compresses file bodies one after the other with one zlib state.
pub struct BodyCompressor {
    zlib: Compress,
}

impl std::fmt::Debug for BodyCompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyCompressor").finish_non_exhaustive()
    }
}

impl Default for BodyCompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl BodyCompressor {
    /// A compressor at Wazuh's level, with the zlib header.
    pub fn new() -> Self {
        Self {
            zlib: Compress::new(Compression::new(COMPRESS_LEVEL), true),
        }
    }

    /// `content` compressed into a new buffer.
    pub fn compress(&mut self, content: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        self.compress_into(content, &mut body);
        body
    }

    /// `content` compressed, appended to `out`.
    pub fn compress_into(&mut self, content: &[u8], out: &mut Vec<u8>) {
        self.zlib.reset();
        loop {
            let consumed = usize::try_from(self.zlib.total_in()).expect("at most the input");
            out.reserve((content.len() - consumed) / 2 + OUTPUT_SLACK);
            let status = self
                .zlib
                .compress_vec(&content[consumed..], out, FlushCompress::Finish)
                .expect("zlib refuses no input in a stream it finishes at once");
            if status == Status::StreamEnd {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use flate2::read::ZlibDecoder;
    use flate2::write::ZlibEncoder;

    use super::*;

    /// What a new zlib stream writes for `data` (flate2's writer, a new state each time).
    fn one_stream(data: &[u8]) -> Vec<u8> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::new(COMPRESS_LEVEL));
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn samples() -> Vec<Vec<u8>> {
        // Bytes of a linear congruential generator: zlib cannot shrink them, so the output
        // outgrows the room first reserved.
        let noise: Vec<u8> = (0u32..300_000)
            .scan(7u32, |x, _| {
                *x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                Some((*x >> 16) as u8)
            })
            .collect();
        let text = b"<localfile><location>/var/log/a.log</location></localfile>\n".repeat(40);
        vec![Vec::new(), b"x".to_vec(), text, noise, vec![0; 100_000]]
    }

    #[test]
    fn one_state_reused_writes_what_a_new_stream_writes() {
        let mut compressor = BodyCompressor::new();
        for round in 0..2 {
            for data in samples() {
                let body = compressor.compress(&data);
                assert_eq!(
                    body,
                    one_stream(&data),
                    "{} bytes, round {round}",
                    data.len()
                );
                let mut back = Vec::new();
                ZlibDecoder::new(&body[..]).read_to_end(&mut back).unwrap();
                assert_eq!(back, data);
            }
        }
    }

    #[test]
    fn compress_into_appends() {
        let mut out = b"head".to_vec();
        BodyCompressor::new().compress_into(b"body", &mut out);
        assert_eq!(&out[..4], b"head");
        assert_eq!(&out[4..], one_stream(b"body"));
    }
}
