//! tokio's watch channel behind openraft's `Watch` trait.

use openraft_rt::watch::{RecvError, SendError, Watch, WatchReceiver, WatchSender};
use openraft_rt::{OptionalSend, OptionalSync};
use tokio::sync::watch;

/// The channel family.
pub struct RaftWatch;

/// The sending half.
pub struct RaftWatchSender<T>(watch::Sender<T>);

/// A receiving half.
pub struct RaftWatchReceiver<T>(watch::Receiver<T>);

impl<T> Clone for RaftWatchSender<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Clone for RaftWatchReceiver<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl Watch for RaftWatch {
    type Sender<T: OptionalSend + OptionalSync> = RaftWatchSender<T>;
    type Receiver<T: OptionalSend + OptionalSync> = RaftWatchReceiver<T>;
    type Ref<'a, T: OptionalSend + 'a> = watch::Ref<'a, T>;

    fn channel<T: OptionalSend + OptionalSync>(init: T) -> (Self::Sender<T>, Self::Receiver<T>) {
        let (tx, rx) = watch::channel(init);
        (RaftWatchSender(tx), RaftWatchReceiver(rx))
    }
}

impl<T: OptionalSend + OptionalSync> WatchSender<RaftWatch, T> for RaftWatchSender<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.0.send(value).map_err(|e| SendError(e.0))
    }

    fn send_if_modified<F>(&self, modify: F) -> bool
    where
        F: FnOnce(&mut T) -> bool,
    {
        self.0.send_if_modified(modify)
    }

    fn borrow_watched(&self) -> watch::Ref<'_, T> {
        self.0.borrow()
    }

    fn subscribe(&self) -> RaftWatchReceiver<T> {
        RaftWatchReceiver(self.0.subscribe())
    }
}

impl<T: OptionalSend + OptionalSync> WatchReceiver<RaftWatch, T> for RaftWatchReceiver<T> {
    async fn changed(&mut self) -> Result<(), RecvError> {
        self.0.changed().await.map_err(|_| RecvError(()))
    }

    fn borrow_watched(&self) -> watch::Ref<'_, T> {
        self.0.borrow()
    }

    fn borrow_and_update(&mut self) -> watch::Ref<'_, T> {
        self.0.borrow_and_update()
    }
}
