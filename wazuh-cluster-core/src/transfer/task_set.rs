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

/// The [`TaskSet`] of a module until its node runs it: the module keeps the spawner for its
/// handlers and hands the set to its background task with [`PendingTasks::run_beside`].
#[derive(Debug)]
pub struct PendingTasks(std::sync::Mutex<Option<TaskSet>>);

impl PendingTasks {
    /// A pending set and its spawner.
    pub fn new() -> (PendingTasks, TaskSpawner) {
        let (set, spawner) = TaskSet::new();
        (PendingTasks(std::sync::Mutex::new(Some(set))), spawner)
    }

    /// Runs `main` with the set's tasks beside it. The set runs once: a later call runs `main`
    /// alone.
    pub async fn run_beside(&self, main: impl Future<Output = ()>) {
        let set = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        match set {
            Some(set) => {
                tokio::join!(set.run(), main);
            }
            None => main.await,
        }
    }
}
