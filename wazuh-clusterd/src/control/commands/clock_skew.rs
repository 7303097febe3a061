//! `get_skew`: the clock offsets this node measured of its peers ([`SkewReply`]), for
//! `cluster_control -i` and `--watch`. Answered locally, never forwarded.

use async_trait::async_trait;
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Request, Router};

use crate::control::ControlContext;
use crate::control::health::format_date;
use crate::control::protocol::json_reply;
use crate::control::protocol::skew::{GET_SKEW, PeerSkew, SkewReply};
use crate::skew::SkewBook;

struct GetSkew(SkewBook);

#[async_trait]
impl Handler<ControlContext> for GetSkew {
    async fn handle(&self, _ctx: &ControlContext, _request: Request) -> HandlerResult {
        let peers = self
            .0
            .offsets()
            .into_iter()
            .map(|(name, offset)| {
                let peer = PeerSkew {
                    offset_seconds: (offset.offset_seconds * 10.0).round() / 10.0,
                    samples: offset.samples,
                    last_sample: format_date(offset.last_sample),
                };
                (name, peer)
            })
            .collect();
        json_reply(&SkewReply {
            threshold_seconds: self.0.threshold().as_secs_f64(),
            peers,
        })
    }
}

/// Installs `get_skew` answering from `book`.
pub fn register(router: &mut Router<ControlContext>, book: SkewBook) -> Result<(), DuplicateRoute> {
    router.route(GET_SKEW, GetSkew(book)).map(|_| ())
}
