//! Pure computations spread over threads: the costly, independent part of checking many
//! items (hashes, parses), so that an auditor's check uses every core of the machine.

/// `f` of every item, in order, computed on up to `threads` threads (scoped: nothing
/// outlives the call). Small inputs stay on the calling thread, where a thread's start
/// would cost more than it saves.
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const SMALL: usize = 64;
    if threads <= 1 || items.len() < SMALL {
        return items.iter().map(f).collect();
    }
    let part = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(part)
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(part) => part,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// The threads worth using here: the machine's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items_whatever_the_threads() {
        let items: Vec<u64> = (0..1000).collect();
        let sequential: Vec<u64> = items.iter().map(|x| x * x + 1).collect();
        for threads in [0, 1, 2, 3, 7, 64, 2000] {
            assert_eq!(map(&items, threads, |x| x * x + 1), sequential, "{threads}");
        }
        assert!(map(&[] as &[u64], 4, |x| *x).is_empty());
    }

    #[test]
    fn work_is_shared_among_threads() {
        let items: Vec<u32> = (0..256).collect();
        let ids = map(&items, 2, |_| std::thread::current().id());
        assert_ne!(ids[0], ids[255]);
    }
}
