//! Gathering a burst of change notices into one call.

use std::time::Duration;

use tokio::sync::mpsc;

/// Waits for a notice on `changes`, waits `window` more, drops the notices that came
/// meanwhile and calls `on_change` once; repeats until every sender is gone. The window is
/// fixed from the first notice (not restarted by later ones), so a steady stream of writes
/// still gets a call every `window`.
pub async fn debounce(
    changes: &mut mpsc::Receiver<()>,
    window: Duration,
    mut on_change: impl FnMut(),
) {
    while changes.recv().await.is_some() {
        tokio::time::sleep(window).await;
        while changes.try_recv().is_ok() {}
        on_change();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_gives_one_call_and_a_later_change_another() {
        let (sender, mut changes) = mpsc::channel(1);
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        let task = tokio::spawn(async move {
            debounce(&mut changes, Duration::from_millis(200), move || {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            })
            .await;
        });
        let count = || calls.load(std::sync::atomic::Ordering::SeqCst);
        for _ in 0..5 {
            let _ = sender.try_send(());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(count(), 0, "nothing before the window ends");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(count(), 1, "one call for the burst");
        sender.try_send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(count(), 2, "a later change gets its own call");
        drop(sender);
        task.await.unwrap();
    }
}
