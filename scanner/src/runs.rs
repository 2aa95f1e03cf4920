//! Passes over every resource, split into contiguous runs on the machine's cores.

use std::mem::MaybeUninit;

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

/// Like [`map_runs`], for work that turns each item it consumes into one outcome. The
/// outcomes are written in input order straight into the vector returned: a large plan's
/// resources are a few hundred bytes each, and gathering each run's outcomes apart, then
/// joining them, copied them all once more into fresh memory on one thread. Each run has a
/// `state` of its own, made by `new_state`.
pub fn map_each_owned<T, R, S, New, F>(
    items: impl IntoIterator<Item = T>,
    new_state: New,
    work: F,
) -> Vec<R>
where
    T: Send,
    R: Send,
    New: Fn() -> S + Sync,
    F: Fn(&mut S, T) -> R + Sync,
{
    // Each item is taken out of its place by the run it falls in. Collecting a vector's
    // items into `Some` reuses the vector's memory.
    let mut items: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let len = items.len();
    let threads = threads_for(len);
    let run_length = len.div_ceil(threads).max(1);
    let mut outcomes: Vec<R> = Vec::with_capacity(len);

    let fill = |inputs: &mut [Option<T>], slots: &mut [MaybeUninit<R>]| {
        let mut state = new_state();
        for (input, slot) in inputs.iter_mut().zip(slots) {
            let item = input.take().expect("each item is taken once");
            slot.write(work(&mut state, item));
        }
    };
    let fill = &fill;
    let slots = &mut outcomes.spare_capacity_mut()[..len];
    let mut runs = items
        .chunks_mut(run_length)
        .zip(slots.chunks_mut(run_length));
    let first = runs.next();
    std::thread::scope(|scope| {
        let others: Vec<_> = runs
            .map(|(inputs, slots)| scope.spawn(move || fill(inputs, slots)))
            .collect();
        // As in `map_runs`, the calling thread takes the first run.
        if let Some((inputs, slots)) = first {
            fill(inputs, slots);
        }
        others.into_iter().for_each(joined);
    });

    // SAFETY: the runs cover the first `len` slots, and each run wrote every slot of its own,
    // one for each of its items. A run that panicked has ended the scope above by panicking,
    // so no slot left unwritten is ever counted; what the other runs wrote is leaked, not read.
    unsafe { outcomes.set_len(len) };
    outcomes
}

/// How many threads `items` items are worth.
fn threads_for(items: usize) -> usize {
    cores().min(items / ITEMS_PER_THREAD).max(1)
}

/// How many threads the machine runs at once.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Frees `value` on another thread, for what takes long to free and that nothing waits for:
/// the work goes on meanwhile, and a process that ends first simply returns the memory. Freed
/// here when no thread can be started.
pub fn free_in_background<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("free".to_string())
        .spawn(move || drop(value));
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
    fn each_owned_item_gives_its_outcome_in_order() {
        let items: Vec<String> = (0..ITEMS_PER_THREAD * 3 + 7)
            .map(|n| n.to_string())
            .collect();
        // The state counts the items its run has met, so a run that started over, or two runs
        // sharing a state, would show.
        let outcomes = map_each_owned(
            items.clone(),
            || 0,
            |seen: &mut usize, item| {
                *seen += 1;
                (item, *seen)
            },
        );
        let (kept, seen): (Vec<String>, Vec<usize>) = outcomes.into_iter().unzip();
        assert_eq!(kept, items);
        let run_length = items.len().div_ceil(threads_for(items.len()));
        let expected: Vec<usize> = (0..items.len()).map(|i| i % run_length + 1).collect();
        assert_eq!(seen, expected);

        let few = map_each_owned(items[..10].to_vec(), || (), |(), item| item.len());
        assert_eq!(few, vec![1; 10]);
        let none = map_each_owned(Vec::<String>::new(), || (), |(), item| item);
        assert!(none.is_empty());
    }
}
