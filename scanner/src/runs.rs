//! Passes over every resource, split into contiguous runs on the machine's cores.

/// Fewer items than this per thread are handled on one: starting another costs more than it
/// saves.
pub const ITEMS_PER_THREAD: usize = 4_096;

/// Applies `work` to contiguous runs of `items`, one run per core when there are enough items
/// to be worth it, and returns the outcomes in input order. `work` gets each run with the
/// index of its first item.
pub fn map_runs<T, R, F>(items: &[T], work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(usize, &[T]) -> R + Sync,
{
    let threads = threads_for(items.len());
    if threads == 1 {
        return vec![work(0, items)];
    }

    let run_length = items.len().div_ceil(threads);
    let work = &work;
    let (first, rest) = items.split_at(run_length.min(items.len()));
    std::thread::scope(|scope| {
        let others: Vec<_> = rest
            .chunks(run_length)
            .enumerate()
            .map(|(n, run)| scope.spawn(move || work((n + 1) * run_length, run)))
            .collect();
        // The calling thread takes the first run rather than wait idle: one thread fewer to
        // start, and its allocations reuse the memory it freed before instead of pages no
        // thread has touched yet, which the system must clear first.
        let mut outcomes = Vec::with_capacity(threads);
        outcomes.push(work(0, first));
        outcomes.extend(others.into_iter().map(joined));
        outcomes
    })
}

/// Like [`map_runs`], for work that consumes its items: each run is moved to its thread.
pub fn map_runs_owned<T, R, F>(mut items: Vec<T>, work: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(Vec<T>) -> R + Sync,
{
    let threads = threads_for(items.len());
    if threads == 1 {
        return vec![work(items)];
    }

    let run_length = items.len().div_ceil(threads);
    let mut runs = Vec::with_capacity(threads);
    while items.len() > run_length {
        let rest = items.split_off(run_length);
        runs.push(std::mem::replace(&mut items, rest));
    }
    runs.push(items);

    let work = &work;
    let mut runs = runs.into_iter();
    let first = runs.next().unwrap_or_default();
    std::thread::scope(|scope| {
        let others: Vec<_> = runs.map(|run| scope.spawn(move || work(run))).collect();
        // As in `map_runs`, the calling thread takes the first run.
        let mut outcomes = Vec::with_capacity(threads);
        outcomes.push(work(first));
        outcomes.extend(others.into_iter().map(joined));
        outcomes
    })
}

/// How many threads `items` items are worth.
fn threads_for(items: usize) -> usize {
    cores().min(items / ITEMS_PER_THREAD).max(1)
}

/// How many threads the machine runs at once.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The outcome of a finished thread. A panic is a bug; it surfaces as it would on one thread.
pub fn joined<R>(run: std::thread::ScopedJoinHandle<'_, R>) -> R {
    match run.join() {
        Ok(outcome) => outcome,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_every_item_once_in_order() {
        let items: Vec<usize> = (0..ITEMS_PER_THREAD * 3 + 7).collect();
        let runs = map_runs(&items, |start, run| {
            assert_eq!(run[0], start);
            run.to_vec()
        });
        assert_eq!(runs.concat(), items);

        let few = map_runs(&items[..10], |start, run| (start, run.len()));
        assert_eq!(few, vec![(0, 10)]);
    }

    #[test]
    fn owned_runs_cover_every_item_once_in_order() {
        let items: Vec<String> = (0..ITEMS_PER_THREAD * 3 + 7)
            .map(|n| n.to_string())
            .collect();
        let runs = map_runs_owned(items.clone(), |run| run);
        assert_eq!(runs.concat(), items);

        let few = map_runs_owned(items[..10].to_vec(), |run| run.len());
        assert_eq!(few, vec![10]);
    }
}
