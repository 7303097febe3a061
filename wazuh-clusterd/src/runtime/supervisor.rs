//! The role supervisor: runs the node in the role it is told, and switches role at run time.
//!
//! A role is started by a [`RoleStarter`] (the master: listener + core master + its modules;
//! a worker: connector + core worker + its modules) and runs until the role changes. The
//! wanted role comes from a `watch` channel: fixed by `<node_type>` in the default
//! single-master mode, moved by the consensus engine when failover is on. On a change the old
//! role's future is dropped first (its connections close, its tasks and modules end, a master's
//! listener is released), then the new role starts and the control socket is pointed at it.
//! This is the one place where a node changes role.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::watch;

/// How long the supervisor waits before retrying a role that failed to start.
pub const RESTART_DELAY: Duration = Duration::from_secs(5);

/// A started role: the future that runs it, and what the control socket looks at.
pub struct Started<C> {
    /// Runs the role until dropped (or until it ends by itself).
    pub role: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// The control context of the running role.
    pub control: C,
}

/// Starts a node in a role.
pub trait RoleStarter<R> {
    /// The control context of a running role.
    type Control;
    /// Why a role could not start.
    type Error: Display;

    /// Starts `role`.
    fn start(
        &self,
        role: R,
    ) -> impl Future<Output = Result<Started<Self::Control>, Self::Error>> + Send;
}

/// Runs `first` (already started in the role `roles` holds), then follows `roles`: on every
/// change the running role stops and the new one starts, and `control` gets its context. Ends
/// when the running role ends by itself or the role source is gone.
pub async fn supervise<R, S>(
    starter: &S,
    mut roles: watch::Receiver<R>,
    first: Started<S::Control>,
    control: &watch::Sender<S::Control>,
) where
    R: Clone + Display + PartialEq + Send + Sync,
    S: RoleStarter<R>,
{
    let mut current = roles.borrow_and_update().clone();
    let mut running = Some(first.role);
    loop {
        let changed = match running.as_mut() {
            Some(role) => tokio::select! {
                () = role => return,
                changed = roles.changed() => changed,
            },
            None => tokio::select! {
                () = tokio::time::sleep(RESTART_DELAY) => Ok(()),
                changed = roles.changed() => changed,
            },
        };
        if changed.is_err() {
            return;
        }
        let wanted = roles.borrow_and_update().clone();
        if running.is_some() && wanted == current {
            continue;
        }
        if running.take().is_some() {
            tracing::info!(
                tag = "Cluster",
                subtag = "Role",
                "Role change: stopping the {current} role to run as {wanted}."
            );
        }
        current = wanted.clone();
        match starter.start(wanted).await {
            Ok(started) => {
                tracing::info!(
                    tag = "Cluster",
                    subtag = "Role",
                    "Running as {current} now."
                );
                control.send_replace(started.control);
                running = Some(started.role);
            }
            Err(error) => tracing::error!(
                tag = "Cluster",
                subtag = "Role",
                "Cannot run as {current}: {error}. Retrying in {}s.",
                RESTART_DELAY.as_secs()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Records starts and drops of each role run.
    #[derive(Default)]
    struct Recorder {
        events: Arc<Mutex<Vec<String>>>,
        refuse: Mutex<Vec<&'static str>>,
    }

    struct DropLog(Arc<Mutex<Vec<String>>>, String);

    impl Drop for DropLog {
        fn drop(&mut self) {
            self.0.lock().unwrap().push(format!("stop {}", self.1));
        }
    }

    impl RoleStarter<&'static str> for Recorder {
        type Control = String;
        type Error = String;

        async fn start(&self, role: &'static str) -> Result<Started<String>, String> {
            if self.refuse.lock().unwrap().contains(&role) {
                return Err(format!("{role} refused"));
            }
            self.events.lock().unwrap().push(format!("start {role}"));
            let guard = DropLog(self.events.clone(), role.to_owned());
            Ok(Started {
                role: Box::pin(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }),
                control: format!("control of {role}"),
            })
        }
    }

    fn events(recorder: &Recorder) -> Vec<String> {
        recorder.events.lock().unwrap().clone()
    }

    #[tokio::test(start_paused = true)]
    async fn a_role_change_stops_the_old_role_before_starting_the_new_one() {
        let recorder = Recorder::default();
        let (role_tx, roles) = watch::channel("worker");
        let first = recorder.start("worker").await.unwrap();
        let (control, control_rx) = watch::channel(first.control.clone());
        let supervise = supervise(&recorder, roles, first, &control);
        let drive = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            role_tx.send_replace("master");
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(*control_rx.borrow(), "control of master");
            role_tx.send_replace("master");
            tokio::time::sleep(Duration::from_secs(1)).await;
            role_tx.send_replace("worker");
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(*control_rx.borrow(), "control of worker");
            drop(role_tx);
        };
        tokio::join!(supervise, drive);
        assert_eq!(
            events(&recorder),
            [
                "start worker",
                "stop worker",
                "start master",
                "stop master",
                "start worker",
                "stop worker"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_role_that_cannot_start_is_retried() {
        let recorder = Recorder::default();
        let (role_tx, roles) = watch::channel("worker");
        let first = recorder.start("worker").await.unwrap();
        let (control, _control_rx) = watch::channel(first.control.clone());
        recorder.refuse.lock().unwrap().push("master");
        let supervise = supervise(&recorder, roles, first, &control);
        let drive = async {
            role_tx.send_replace("master");
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(events(&recorder), ["start worker", "stop worker"]);
            recorder.refuse.lock().unwrap().clear();
            tokio::time::sleep(RESTART_DELAY).await;
            assert_eq!(
                events(&recorder),
                ["start worker", "stop worker", "start master"]
            );
            drop(role_tx);
        };
        tokio::join!(supervise, drive);
    }
}
