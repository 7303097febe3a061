//! Divided messages: splitting a large message into frames, and joining frames back by counter.
//!
//! A message whose plaintext is over [`REQUEST_CHUNK`] (5 MiB) is encrypted once; the token is then
//! cut into frames of exactly [`REQUEST_CHUNK`] bytes including the header (payload
//! [`DIVIDED_FRAME_PAYLOAD`]) plus a shorter last frame. All frames carry the same counter and
//! command, and all but the last have the `d` flag. Frames of different counters may interleave.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::budget::{BudgetShare, NodeBudget, Refusal};
use crate::command::Command;
use crate::header::{FrameHeader, HEADER_LEN};
use crate::limits::Limits;

/// Wazuh's `request_chunk`: plaintexts longer than this are divided, and a divided frame is this
/// long including its header.
pub const REQUEST_CHUNK: usize = 5_242_880;

/// Payload bytes of every divided frame but the last.
pub const DIVIDED_FRAME_PAYLOAD: usize = REQUEST_CHUNK - HEADER_LEN;

/// Whether a message with a plaintext of `plaintext_len` bytes goes in several frames.
pub const fn is_divided(plaintext_len: usize) -> bool {
    plaintext_len > REQUEST_CHUNK
}

/// Number of frames a wire payload (token) of `payload_len` bytes takes when divided.
pub const fn divided_frame_count(payload_len: usize) -> usize {
    if payload_len == 0 {
        1
    } else {
        payload_len.div_ceil(DIVIDED_FRAME_PAYLOAD)
    }
}

/// A frame payload that does not fit in the message being joined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionError {
    /// Joining this frame would make the message larger than the limit (Wazuh error 3050).
    #[error(
        "divided message {counter} ({command}) would reach {size} bytes, over the limit of {max}; close the connection (error 3050)"
    )]
    TooLarge {
        /// Counter of the message.
        counter: u32,
        /// Its command.
        command: Command,
        /// Size it would reach.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A new divided message started while the maximum number were already incomplete (Wazuh
    /// error 3051).
    #[error(
        "divided message {counter} ({command}) would be the {count}th incomplete one; at most {max} are allowed (error 3051)"
    )]
    TooManyInFlight {
        /// Counter of the refused message.
        counter: u32,
        /// Its command.
        command: Command,
        /// How many would be in flight with it.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Keeping this frame would pass the node's budget for divided messages being joined.
    #[error(
        "divided message {counter} ({command}): {bytes} more bytes would pass the node's budget \
         for divided messages ({used} of {cap} bytes held); closing the connection"
    )]
    NodeBudget {
        /// Counter of the message.
        counter: u32,
        /// Its command.
        command: Command,
        /// Bytes of this frame.
        bytes: usize,
        /// Bytes held on the node.
        used: usize,
        /// The node's cap.
        cap: usize,
    },
    /// This connection holds more than its fair share of the node's budget while another peer
    /// needs its own (see [`NodeBudget`]).
    #[error(
        "divided message {counter} ({command}): this connection holds {held} bytes of divided \
         messages, over its fair share of {share} bytes (the node's budget over {peers} \
         authenticated connections) while another peer needs its share; closing the connection"
    )]
    UnfairShare {
        /// Counter of the message.
        counter: u32,
        /// Its command.
        command: Command,
        /// Bytes this connection holds.
        held: usize,
        /// Its fair share.
        share: usize,
        /// Authenticated connections sharing the budget.
        peers: usize,
    },
    /// A frame of a divided message carries another command than its first frame.
    #[error(
        "frame of divided message {counter} has command {found}, but the message started as {expected}"
    )]
    CommandChanged {
        /// Counter of the message.
        counter: u32,
        /// The command of the first frame.
        expected: Command,
        /// The command of this frame.
        found: Command,
    },
}

/// A message whose frames are all in: its wire payload (the whole token) still to be decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedPayload {
    /// Counter of the message.
    pub counter: u32,
    /// Its command.
    pub command: Command,
    /// The joined frame payloads.
    pub payload: Bytes,
    /// How many frames it came in.
    pub frames: usize,
}

/// An incomplete divided message dropped by [`Reassembler::expire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedPartial {
    /// Counter of the message.
    pub counter: u32,
    /// Its command.
    pub command: Command,
    /// Frames received before it was dropped.
    pub frames: usize,
    /// Payload bytes received before it was dropped.
    pub bytes: usize,
}

/// Frames received so far of one divided message.
#[derive(Debug)]
struct Partial {
    command: Command,
    payload: BytesMut,
    frames: usize,
    started: Duration,
}

/// Joins the frames of divided messages, keyed by counter, within [`Limits`].
///
/// Time is a `Duration` on the caller's monotonic clock (time since an origin of its choosing,
/// e.g. `std::time::Instant::now() - start`, or a simulated clock): this crate reads no clock.
#[derive(Debug)]
pub struct Reassembler {
    limits: Limits,
    partials: HashMap<u32, Partial>,
    budget: Option<BudgetShare>,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            partials: HashMap::new(),
            budget: None,
        }
    }

    /// Also keeps the bytes of incomplete messages within `budget`, shared fairly with other
    /// connections; this one counts as an authenticated peer of it.
    pub fn with_budget(mut self, budget: NodeBudget) -> Self {
        let share = budget.share();
        share.set_peer(true);
        self.budget = Some(share);
        self
    }

    /// Counts this connection as an authenticated peer of its budget (guaranteed a fair share)
    /// or not yet.
    pub(crate) fn set_budget_peer(&mut self, peer: bool) {
        if let Some(share) = &self.budget {
            share.set_peer(peer);
        }
    }

    /// Applies `limits` from now on (to frames and messages not yet started).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Reserves `bytes` of the node's budget for message `counter`.
    fn reserve(&self, counter: u32, command: Command, bytes: usize) -> Result<(), DivisionError> {
        let Some(share) = &self.budget else {
            return Ok(());
        };
        share.take(bytes).map_err(|refusal| match refusal {
            Refusal::Full { used } => DivisionError::NodeBudget {
                counter,
                command,
                bytes,
                used,
                cap: share.budget().cap(),
            },
            Refusal::Squeezed { held, share, peers } => DivisionError::UnfairShare {
                counter,
                command,
                held,
                share,
                peers,
            },
        })
    }

    /// Gives back the budget of a message that completed or was dropped.
    fn release(&self, bytes: usize) {
        if let Some(share) = &self.budget {
            share.give_back(bytes);
        }
    }

    /// Number of divided messages partly received.
    pub fn in_flight(&self) -> usize {
        self.partials.len()
    }

    /// Takes one frame, received at `now`. Returns the whole payload once the message's last
    /// frame is in; a frame that is not divided and continues nothing is returned as it is.
    pub fn push(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
        now: Duration,
    ) -> Result<Option<JoinedPayload>, DivisionError> {
        let counter = header.counter;
        let Some(partial) = self.partials.get_mut(&counter) else {
            if !header.divided {
                return Ok(Some(JoinedPayload {
                    counter,
                    command: header.command,
                    payload,
                    frames: 1,
                }));
            }
            if self.partials.len() >= self.limits.max_divided_in_flight {
                return Err(DivisionError::TooManyInFlight {
                    counter,
                    command: header.command,
                    count: self.partials.len() + 1,
                    max: self.limits.max_divided_in_flight,
                });
            }
            self.reserve(counter, header.command, payload.len())?;
            self.partials.insert(
                counter,
                Partial {
                    command: header.command,
                    payload: BytesMut::from(payload),
                    frames: 1,
                    started: now,
                },
            );
            return Ok(None);
        };
        if partial.command != header.command {
            return Err(DivisionError::CommandChanged {
                counter,
                expected: partial.command,
                found: header.command,
            });
        }
        let size = partial.payload.len() + payload.len();
        if size > self.limits.max_total_size {
            return Err(DivisionError::TooLarge {
                counter,
                command: header.command,
                size,
                max: self.limits.max_total_size,
            });
        }
        let command = partial.command;
        self.reserve(counter, command, payload.len())?;
        let partial = self
            .partials
            .get_mut(&counter)
            .expect("the entry was just borrowed");
        partial.payload.extend_from_slice(&payload);
        partial.frames += 1;
        if header.divided {
            return Ok(None);
        }
        let partial = self
            .partials
            .remove(&counter)
            .expect("the entry was just borrowed");
        self.release(partial.payload.len());
        Ok(Some(JoinedPayload {
            counter,
            command: partial.command,
            payload: partial.payload.freeze(),
            frames: partial.frames,
        }))
    }

    /// Whether this connection holds more than its fair share of the node's budget while
    /// another peer needs its own: the caller closes it (its next frame is refused anyway).
    pub fn over_fair_share(&self) -> bool {
        self.budget.as_ref().is_some_and(BudgetShare::is_squeezed)
    }

    /// Drops every incomplete message whose first frame came at least `divided_timeout` before
    /// `now`, and returns what was dropped. The caller calls it from its own timer.
    pub fn expire(&mut self, now: Duration) -> Vec<DroppedPartial> {
        let timeout = self.limits.divided_timeout;
        let expired: Vec<u32> = self
            .partials
            .iter()
            .filter(|(_, p)| now.saturating_sub(p.started) >= timeout)
            .map(|(&counter, _)| counter)
            .collect();
        let mut dropped: Vec<DroppedPartial> = expired
            .into_iter()
            .filter_map(|counter| {
                let partial = self.partials.remove(&counter);
                if let Some(p) = &partial {
                    self.release(p.payload.len());
                }
                partial.map(|p| DroppedPartial {
                    counter,
                    command: p.command,
                    frames: p.frames,
                    bytes: p.payload.len(),
                })
            })
            .collect();
        dropped.sort_by_key(|d| d.counter);
        dropped
    }

    /// Counter and frame count of one incomplete message, if any.
    pub fn first_incomplete(&self) -> Option<(u32, usize)> {
        self.partials
            .iter()
            .map(|(&counter, p)| (counter, p.frames))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::command::names;

    fn frame(counter: u32, divided: bool, payload: &'static [u8]) -> (FrameHeader, Bytes) {
        let header = FrameHeader {
            counter,
            size: payload.len() as u32,
            command: names::DAPI,
            divided,
        };
        (header, Bytes::from_static(payload))
    }

    #[test]
    fn joins_interleaved_counters() {
        let now = Duration::ZERO;
        let mut r = Reassembler::new(Limits::default());
        for (counter, divided, payload) in [
            (1, true, &b"ab"[..]),
            (2, true, b"xy"),
            (3, false, b"single"),
            (1, true, b"cd"),
        ] {
            let (h, p) = frame(counter, divided, payload);
            let out = r.push(h, p, now).unwrap();
            assert_eq!(out.is_some(), counter == 3);
        }
        let (h, p) = frame(2, false, b"z");
        let joined = r.push(h, p, now).unwrap().unwrap();
        assert_eq!(
            (joined.counter, &joined.payload[..], joined.frames),
            (2, &b"xyz"[..], 2)
        );
        let (h, p) = frame(1, false, b"e");
        let joined = r.push(h, p, now).unwrap().unwrap();
        assert_eq!((&joined.payload[..], joined.frames), (&b"abcde"[..], 3));
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn refuses_the_eleventh_divided_message() {
        let now = Duration::ZERO;
        let mut r = Reassembler::new(Limits::default());
        for counter in 0..10 {
            let (h, p) = frame(counter, true, b"a");
            assert_eq!(r.push(h, p, now).unwrap(), None);
        }
        let (h, p) = frame(10, true, b"a");
        let err = r.push(h, p, now).unwrap_err();
        assert!(matches!(
            err,
            DivisionError::TooManyInFlight {
                counter: 10,
                count: 11,
                max: 10,
                ..
            }
        ));
        // Continuing one already in flight is still fine.
        let (h, p) = frame(3, false, b"b");
        assert!(r.push(h, p, now).unwrap().is_some());
    }

    #[test]
    fn refuses_a_joined_message_over_the_limit() {
        let limits = Limits {
            max_total_size: 5,
            ..Limits::default()
        };
        let mut r = Reassembler::new(limits);
        let now = Duration::ZERO;
        let (h, p) = frame(1, true, b"abc");
        r.push(h, p, now).unwrap();
        let (h, p) = frame(1, false, b"def");
        assert!(matches!(
            r.push(h, p, now),
            Err(DivisionError::TooLarge {
                size: 6,
                max: 5,
                ..
            })
        ));
    }

    #[test]
    fn refuses_a_changed_command() {
        let mut r = Reassembler::new(Limits::default());
        let now = Duration::ZERO;
        let (h, p) = frame(1, true, b"abc");
        r.push(h, p, now).unwrap();
        let (mut h, p) = frame(1, false, b"def");
        h.command = names::OK;
        assert!(matches!(
            r.push(h, p, now),
            Err(DivisionError::CommandChanged { counter: 1, .. })
        ));
    }

    #[test]
    fn expires_old_partials_only() {
        let start = Duration::ZERO;
        let mut r = Reassembler::new(Limits::default());
        let (h, p) = frame(1, true, b"abc");
        r.push(h, p, start).unwrap();
        let (h, p) = frame(2, true, b"de");
        r.push(h, p, start + Duration::from_secs(20)).unwrap();
        assert!(r.expire(start + Duration::from_secs(29)).is_empty());
        let dropped = r.expire(start + Duration::from_secs(30));
        assert_eq!(
            dropped,
            vec![DroppedPartial {
                counter: 1,
                command: names::DAPI,
                frames: 1,
                bytes: 3
            }]
        );
        assert_eq!(r.in_flight(), 1);
        // A late frame of the dropped message is now a lone final frame.
        let (h, p) = frame(1, false, b"z");
        assert_eq!(r.push(h, p, start).unwrap().unwrap().frames, 1);
    }

    #[test]
    fn counts_frames_as_wazuh_splits() {
        assert_eq!(divided_frame_count(DIVIDED_FRAME_PAYLOAD), 1);
        assert_eq!(divided_frame_count(DIVIDED_FRAME_PAYLOAD + 1), 2);
        assert!(!is_divided(REQUEST_CHUNK));
        assert!(is_divided(REQUEST_CHUNK + 1));
    }

    #[test]
    fn the_node_budget_caps_every_connection_together_and_comes_back() {
        let budget = NodeBudget::new(10);
        let mut first = Reassembler::new(Limits::default()).with_budget(budget.clone());
        let mut second = Reassembler::new(Limits::default()).with_budget(budget.clone());
        let (h, p) = frame(1, true, b"123456");
        first.push(h, p, Duration::ZERO).unwrap();
        let (h, p) = frame(2, true, b"1234");
        second.push(h, p, Duration::ZERO).unwrap();
        assert_eq!(budget.used(), 10);
        // Past its fair share (5) and the budget full: refused.
        let (h, p) = frame(3, true, b"x");
        assert!(matches!(
            first.push(h, p, Duration::ZERO),
            Err(DivisionError::NodeBudget {
                used: 10,
                cap: 10,
                ..
            })
        ));
        let (h, p) = frame(2, false, b"");
        assert!(second.push(h, p, Duration::ZERO).unwrap().is_some());
        assert_eq!(budget.used(), 6, "a completed message gives its bytes back");
        drop(first);
        assert_eq!(
            budget.used(),
            0,
            "a closed connection gives everything back"
        );
    }

    #[test]
    fn a_hog_cannot_keep_another_peer_from_its_share() {
        let budget = NodeBudget::new(10);
        let mut hog = Reassembler::new(Limits::default()).with_budget(budget.clone());
        for counter in 1..=5 {
            let (h, p) = frame(counter, true, b"xx");
            hog.push(h, p, Duration::ZERO).unwrap();
        }
        assert_eq!(budget.used(), 10, "alone, it may fill the budget");
        let mut honest = Reassembler::new(Limits::default()).with_budget(budget.clone());
        let (h, p) = frame(1, true, b"abc");
        honest.push(h, p, Duration::ZERO).unwrap();
        let (h, p) = frame(1, false, b"de");
        let joined = honest.push(h, p, Duration::ZERO).unwrap().unwrap();
        assert_eq!(&joined.payload[..], b"abcde", "within its share of 5 bytes");
        let (h, p) = frame(1, false, b"y");
        assert!(matches!(
            hog.push(h, p, Duration::ZERO),
            Err(DivisionError::UnfairShare {
                held: 10,
                share: 5,
                peers: 2,
                ..
            })
        ));
        // An idle hog is told to close at its next timer tick.
        assert!(hog.over_fair_share());
        assert!(!honest.over_fair_share());
        drop(hog);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_connection_before_authentication_is_no_peer() {
        let budget = NodeBudget::new(10);
        let mut stranger = Reassembler::new(Limits::default()).with_budget(budget.clone());
        stranger.set_budget_peer(false);
        let _peer = Reassembler::new(Limits::default()).with_budget(budget.clone());
        assert_eq!(budget.peers(), 1);
        drop(stranger);
        assert_eq!(budget.peers(), 1);
    }
}
