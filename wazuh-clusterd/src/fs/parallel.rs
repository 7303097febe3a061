//! Running one blocking file operation over many items, split over the cores on tokio's
//! blocking pool, answers in the order given.

/// Fewer items than this per blocking thread are not worth another thread.
const MIN_PER_THREAD: usize = 64;

/// Runs `work` on every item on at most `available_parallelism` (≤ 4) blocking threads; a
/// thread that panics answers `failed(item, why)` for each of its items.
pub(crate) async fn map_blocking<I, T, E>(
    items: Vec<I>,
    work: impl Fn(I) -> Result<T, E> + Clone + Send + 'static,
    failed: impl Fn(String) -> E,
) -> Vec<Result<T, E>>
where
    I: Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let per_thread = items.len().div_ceil(threads).max(MIN_PER_THREAD);
    let mut items = items.into_iter();
    let mut parts = Vec::new();
    loop {
        let part: Vec<I> = items.by_ref().take(per_thread).collect();
        if part.is_empty() {
            break;
        }
        let count = part.len();
        let work = work.clone();
        let task = tokio::task::spawn_blocking(move || part.into_iter().map(work).collect());
        parts.push((count, task));
    }
    let mut results = Vec::new();
    for (count, task) in parts {
        match task.await {
            Ok(part) => results.extend::<Vec<_>>(part),
            Err(join) => results.extend((0..count).map(|_| Err(failed(join.to_string())))),
        }
    }
    results
}
