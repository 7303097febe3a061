//! Properties of the node-wide budget for divided messages shared fairly by connections
//! (`NodeBudget`): whatever the frames of up to four authenticated connections, the budget counts
//! exactly what they hold, never more than twice its cap, a connection within its fair share is
//! never refused for the budget, only one over its share is squeezed, and closed connections
//! give everything back.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{DivisionError, FrameHeader, Limits, NodeBudget, Reassembler};

const CAP: usize = 120;
const CONNECTIONS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    /// A frame from connection `conn` (opened first if closed).
    Frame {
        conn: usize,
        counter: u32,
        divided: bool,
        len: usize,
    },
    /// The connection's receive timer: closed when over its fair share.
    Tick { conn: usize },
    /// The peer closes the connection.
    Close { conn: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..CONNECTIONS, 0u32..4, any::<bool>(), 1usize..50).prop_map(
            |(conn, counter, divided, len)| Op::Frame { conn, counter, divided, len }
        ),
        1 => (0..CONNECTIONS).prop_map(|conn| Op::Tick { conn }),
        1 => (0..CONNECTIONS).prop_map(|conn| Op::Close { conn }),
    ]
}

/// One open connection and the bytes of its incomplete messages, by counter.
struct Conn {
    reassembler: Reassembler,
    partials: HashMap<u32, usize>,
}

impl Conn {
    fn held(&self) -> usize {
        self.partials.values().sum()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_budget_is_exact_bounded_and_fair(ops in proptest::collection::vec(op(), 1..200)) {
        let budget = NodeBudget::new(CAP);
        let limits = Limits { max_total_size: 1 << 20, max_divided_in_flight: 3, ..Limits::default() };
        let mut conns: Vec<Option<Conn>> = (0..CONNECTIONS).map(|_| None).collect();
        for op in ops {
            match op {
                Op::Frame { conn, counter, divided, len } => {
                    let slot = conns[conn].get_or_insert_with(|| Conn {
                        reassembler: Reassembler::new(limits).with_budget(budget.clone()),
                        partials: HashMap::new(),
                    });
                    let share = CAP / budget.peers();
                    let held = slot.held();
                    let over = slot.reassembler.over_fair_share();
                    let header = FrameHeader { counter, size: len as u32, command: names::DAPI, divided };
                    let continues = slot.partials.contains_key(&counter);
                    match slot.reassembler.push(header, Bytes::from(vec![0u8; len]), Duration::ZERO) {
                        Ok(Some(_)) => {
                            slot.partials.remove(&counter);
                        }
                        Ok(None) => *slot.partials.entry(counter).or_default() += len,
                        Err(error) => {
                            match error {
                                DivisionError::NodeBudget { .. } => prop_assert!(
                                    held + len > share,
                                    "refused within its share: held {held} + {len}, share {share}"
                                ),
                                DivisionError::UnfairShare { .. } => prop_assert!(
                                    over && held > share,
                                    "squeezed within its share: held {held}, share {share}"
                                ),
                                DivisionError::TooManyInFlight { .. } => prop_assert!(!continues),
                                other => prop_assert!(false, "unexpected {other}"),
                            }
                            // The daemon closes the connection on any error.
                            conns[conn] = None;
                        }
                    }
                }
                Op::Tick { conn } => {
                    if conns[conn].as_ref().is_some_and(|c| c.reassembler.over_fair_share()) {
                        conns[conn] = None;
                    }
                }
                Op::Close { conn } => conns[conn] = None,
            }
            let held: usize = conns.iter().flatten().map(Conn::held).sum();
            prop_assert_eq!(budget.used(), held);
            prop_assert!(held <= 2 * CAP, "{} held, cap {}", held, CAP);
            prop_assert_eq!(budget.peers(), conns.iter().flatten().count());
        }
        drop(conns);
        prop_assert_eq!((budget.used(), budget.peers()), (0, 0));
    }
}
