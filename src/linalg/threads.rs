//! The threaded loop of the crate's passes over samples: work split into a fixed list of items,
//! each computed whole by one thread, results returned in item order. Since no item's result
//! depends on which thread computed it, the answer does not depend on the thread count.
//!
//! How many threads a kernel takes is [`available`]: every core, or the budget of the
//! [`with_budget`] call it runs under (a run request's `threads`).

use std::cell::Cell;

thread_local! {
    /// The budget of the innermost [`with_budget`] on this thread.
    static BUDGET: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The threads a kernel called from this thread may use: the budget of the enclosing
/// [`with_budget`], or every core.
pub fn available() -> usize {
    BUDGET
        .with(Cell::get)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// Runs `f` with every kernel it calls on this thread taking at most `threads` threads (`None`:
/// every core); the budget before is restored after, also on a panic.
pub fn with_budget<R>(threads: Option<usize>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|b| b.replace(threads.or(b.get()))));
    f()
}

/// Runs `f` on every item, on up to `threads` scoped threads (consecutive runs of items each);
/// the results come back in item order.
pub fn par_map<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    if threads <= 1 || items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut groups: Vec<Vec<T>> = Vec::new();
    let mut it = items.into_iter().peekable();
    while it.peek().is_some() {
        groups.push(it.by_ref().take(per).collect());
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|g| s.spawn(move || g.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The boundaries `0, block, 2·block, …, n` of `n` items cut into blocks of `block` (the last
/// shorter): a split that depends on `n` and `block` only, never on the thread count.
pub fn block_bounds(n: usize, block: usize) -> Vec<usize> {
    (0..n).step_by(block).chain(std::iter::once(n)).collect()
}

/// Splits `s` (which starts at index `bounds[0]` of its array) at the given absolute boundaries:
/// one mutable piece per item of a [`par_map`].
pub fn split_at_bounds<'a, T>(mut s: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    let mut pos = bounds[0];
    for &b in &bounds[1..] {
        let (head, tail) = std::mem::take(&mut s).split_at_mut(b - pos);
        out.push(head);
        s = tail;
        pos = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_holds_inside_its_call_only() {
        let all = available();
        assert_eq!(with_budget(Some(1), available), 1);
        assert_eq!(with_budget(Some(3), || with_budget(None, available)), 3);
        assert_eq!(with_budget(Some(2), || with_budget(Some(1), available)), 1);
        assert_eq!(available(), all);
    }

    #[test]
    fn results_come_back_in_item_order_on_any_thread_count() {
        let items: Vec<usize> = (0..37).collect();
        let one = par_map(items.clone(), 1, |i| i * i);
        for threads in [2, 3, 8, 64] {
            assert_eq!(par_map(items.clone(), threads, |i| i * i), one);
        }
        let mut v: Vec<u32> = (0..10).collect();
        let parts = split_at_bounds(&mut v[2..], &[2, 5, 9, 10]);
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [3, 4, 1]);
    }
}
