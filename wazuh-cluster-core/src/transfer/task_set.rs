//! [`TaskSet`]: background work a handler starts (waiting for a file, sending a sync) that must
//! not outlive its node. The node runs [`TaskSet::run`]; dropping that future aborts every task.

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Hands tasks to a running [`TaskSet`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TaskSpawner {
    tx: mpsc::UnboundedSender<BoxFuture<'static, ()>>,
}

impl TaskSpawner {
    /// Starts `task` on the set; it is dropped unrun if the set stopped.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let _ = self.tx.send(Box::pin(task));
    }
}

/// The receiving side: runs what the spawners send.
#[derive(Debug)]
pub struct TaskSet {
    rx: mpsc::UnboundedReceiver<BoxFuture<'static, ()>>,
}

impl TaskSet {
    /// A set and its spawner.
    pub fn new() -> (TaskSet, TaskSpawner) {
        let (tx, rx) = mpsc::unbounded_channel();
        (TaskSet { rx }, TaskSpawner { tx })
    }

    /// Runs every task sent until dropped (or every spawner is gone and the tasks ended).
    pub async fn run(mut self) {
        let mut running = JoinSet::new();
        loop {
            tokio::select! {
                biased;
                Some(_) = running.join_next(), if !running.is_empty() => {}
                task = self.rx.recv() => match task {
                    Some(task) => { running.spawn(task); }
                    None => break,
                },
            }
        }
        while running.join_next().await.is_some() {}
    }
}
