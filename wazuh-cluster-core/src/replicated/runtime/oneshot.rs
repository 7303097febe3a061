//! tokio's oneshot channel behind openraft's `Oneshot` trait.

use openraft_rt::{Oneshot, OneshotSender, OptionalSend};
use tokio::sync::oneshot;

/// The channel family.
pub struct RaftOneshot;

/// The sending half.
pub struct RaftOneshotSender<T>(oneshot::Sender<T>);

impl Oneshot for RaftOneshot {
    type Sender<T: OptionalSend> = RaftOneshotSender<T>;
    type Receiver<T: OptionalSend> = oneshot::Receiver<T>;
    type ReceiverError = oneshot::error::RecvError;

    fn channel<T: OptionalSend>() -> (Self::Sender<T>, Self::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        (RaftOneshotSender(tx), rx)
    }
}

impl<T: OptionalSend> OneshotSender<T> for RaftOneshotSender<T> {
    fn send(self, t: T) -> Result<(), T> {
        self.0.send(t)
    }
}
