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
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = cores.min(items.len() / ITEMS_PER_THREAD).max(1);
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
        outcomes.extend(others.into_iter().map(|run| match run.join() {
            Ok(outcome) => outcome,
            // A panic is a bug; let it surface as it would on one thread.
            Err(panic) => std::panic::resume_unwind(panic),
        }));
        outcomes
    })
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
}
