//! Fernet sealing against independent opening: a token made by `encrypt_with_iv` (streamed CBC
//! stitched with this crate's own HMAC-SHA256) must open with `decrypt` (the `hmac` crate and
//! the `cbc` crate) to the same plaintext, and so must the frames of `encode_message` (the raw
//! token path) through `MessageDecoder`. Also flips one token character: that must be refused.
#![no_main]

use std::time::Duration;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{Fernet, Limits, Message, MessageDecoder, encode_message};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

fuzz_target!(|data: &[u8]| {
    let Some((iv, plaintext)) = data.split_first_chunk::<17>() else {
        return;
    };
    let fernet = Fernet::from_cluster_key(KEY).expect("valid key");
    let time = u64::from(iv[16]) << 24;
    let iv: [u8; 16] = iv[..16].try_into().expect("16 bytes");
    let token = fernet.encrypt_with_iv(plaintext, time, iv);
    assert_eq!(token.len(), Fernet::token_len(plaintext.len()));
    assert_eq!(fernet.decrypt(&token).expect("own token"), plaintext);

    let mut altered = token.clone();
    let at = usize::from(iv[0]) * 7 % (altered.len() - 4);
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    assert!(fernet.decrypt(&altered).is_err(), "altered at {at}");

    let message = Message::new(3, names::SENDSYNC, plaintext.to_vec());
    let mut wire = BytesMut::new();
    encode_message(&message, Some(&fernet), time, &mut wire);
    let mut decoder = MessageDecoder::new(Some(fernet), Limits::default());
    decoder.push(&wire);
    let decoded = decoder
        .next_message(Duration::ZERO)
        .expect("own frames")
        .expect("one whole message");
    assert_eq!(decoded.message, message);
});
