//! Ties a node's background agent tasks to the node's life: the task is aborted when the
//! node's router (which holds a [`Guarded`] handler) is dropped, that is when the node stops.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::task::AbortHandle;

use crate::session::{Handler, HandlerResult, Request};

/// Aborts its task when the last clone is dropped.
#[derive(Debug)]
pub struct AbortOnDrop(pub AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A handler that also keeps a background task alive.
pub struct Guarded<H> {
    inner: H,
    _guard: Arc<AbortOnDrop>,
}

impl<H> Guarded<H> {
    /// `inner`, keeping `guard` (and so its task) alive as long as the handler lives.
    pub fn new(inner: H, guard: Arc<AbortOnDrop>) -> Self {
        Self {
            inner,
            _guard: guard,
        }
    }
}

#[async_trait]
impl<Ctx: Send + Sync + 'static, H: Handler<Ctx>> Handler<Ctx> for Guarded<H> {
    async fn handle(&self, ctx: &Ctx, request: Request) -> HandlerResult {
        self.inner.handle(ctx, request).await
    }
}
