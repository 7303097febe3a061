//! tokio's bounded mpsc channel behind openraft's `Mpsc` trait.

use std::future::Future;

use futures_util::TryFutureExt;
use openraft_rt::{
    Mpsc, MpscReceiver, MpscSender, MpscWeakSender, OptionalSend, SendError, TryRecvError,
};
use tokio::sync::mpsc;

/// The channel family.
pub struct RaftMpsc;

/// The sending half.
pub struct RaftMpscSender<T>(mpsc::Sender<T>);

/// The receiving half.
pub struct RaftMpscReceiver<T>(mpsc::Receiver<T>);

/// A sender that does not keep the channel open.
pub struct RaftMpscWeakSender<T>(mpsc::WeakSender<T>);

impl<T> Clone for RaftMpscSender<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Clone for RaftMpscWeakSender<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl Mpsc for RaftMpsc {
    type Sender<T: OptionalSend> = RaftMpscSender<T>;
    type Receiver<T: OptionalSend> = RaftMpscReceiver<T>;
    type WeakSender<T: OptionalSend> = RaftMpscWeakSender<T>;

    fn channel<T: OptionalSend>(buffer: usize) -> (Self::Sender<T>, Self::Receiver<T>) {
        let (tx, rx) = mpsc::channel(buffer);
        (RaftMpscSender(tx), RaftMpscReceiver(rx))
    }
}

impl<T: OptionalSend> MpscSender<RaftMpsc, T> for RaftMpscSender<T> {
    fn send(&self, msg: T) -> impl Future<Output = Result<(), SendError<T>>> + OptionalSend {
        self.0.send(msg).map_err(|e| SendError(e.0))
    }

    fn downgrade(&self) -> RaftMpscWeakSender<T> {
        RaftMpscWeakSender(self.0.downgrade())
    }
}

impl<T: OptionalSend> MpscReceiver<T> for RaftMpscReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<T>> + OptionalSend {
        self.0.recv()
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv().map_err(|e| match e {
            mpsc::error::TryRecvError::Empty => TryRecvError::Empty,
            mpsc::error::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }
}

impl<T: OptionalSend> MpscWeakSender<RaftMpsc, T> for RaftMpscWeakSender<T> {
    fn upgrade(&self) -> Option<RaftMpscSender<T>> {
        self.0.upgrade().map(RaftMpscSender)
    }
}
