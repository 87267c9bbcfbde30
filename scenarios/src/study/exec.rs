//! The executor every study runs its simulations on: a bounded pool of plain threads that takes
//! items in turn and returns results in item order, whatever order they finish in.
//!
//! Plain threads, not a rayon pool: writing a run's tables waits on polars' own pool, and a rayon
//! worker waiting on another pool starts further items of its own pool on the same stack, which
//! then finish only in reverse order and leave the other threads idle.
//!
//! A stop flag (set by the binary's Ctrl-C handler) lets items under way finish and keeps their
//! results; items not yet started are not started.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Called after each item with (items finished, items in the batch).
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// Runs batches of independent items in parallel.
#[derive(Clone)]
pub struct Executor {
    threads: usize,
    stop: Arc<AtomicBool>,
    progress: Option<Progress>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("threads", &self.threads)
            .field("stopped", &self.stopped())
            .finish_non_exhaustive()
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new(None)
    }
}

impl Executor {
    /// At most `threads` items at once (each simulation is single-threaded); `None` or 0: as many
    /// as the machine has cores.
    pub fn new(threads: Option<usize>) -> Executor {
        let threads = match threads {
            Some(n) if n > 0 => n,
            _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        Executor {
            threads,
            stop: Arc::new(AtomicBool::new(false)),
            progress: None,
        }
    }

    /// Stops starting items once `flag` is set.
    pub fn stop_on(mut self, flag: Arc<AtomicBool>) -> Executor {
        self.stop = flag;
        self
    }

    /// Reports each finished item.
    pub fn on_progress(mut self, progress: Progress) -> Executor {
        self.progress = Some(progress);
        self
    }

    /// Reports progress within one item (a single run's jobs), as items are reported.
    pub fn report(&self, done: usize, total: usize) {
        if let Some(p) = &self.progress {
            p(done, total);
        }
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Whether the stop flag is set.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Runs `f` on every item, at most [`Executor::threads`] at once; the results in item order,
    /// `None` for an item that was not started because the stop flag was set.
    pub fn map<T: Sync, R: Send>(&self, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Option<R>> {
        let slots: Vec<Mutex<Option<R>>> = (0..items.len()).map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let work = || {
            loop {
                if self.stopped() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                *slots[i].lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
                let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(p) = &self.progress {
                    p(finished, items.len());
                }
            }
        };
        let threads = self.threads.min(items.len());
        if threads <= 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
        slots
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items that finish in reverse order still come back in item order.
    #[test]
    fn results_keep_the_item_order() {
        let items: Vec<u64> = (0..12).collect();
        let out = Executor::new(Some(4)).map(&items, |&i| {
            std::thread::sleep(std::time::Duration::from_millis(12 - i));
            i * 10
        });
        let got: Vec<u64> = out.into_iter().map(Option::unwrap).collect();
        assert_eq!(got, (0..12).map(|i| i * 10).collect::<Vec<_>>());
    }

    /// Once the flag is set, items under way finish and keep their results; no new one starts.
    #[test]
    fn a_stop_keeps_what_finished_and_starts_nothing_more() {
        let flag = Arc::new(AtomicBool::new(false));
        let exec = Executor::new(Some(1)).stop_on(flag.clone());
        let items: Vec<usize> = (0..5).collect();
        let out = exec.map(&items, |&i| {
            if i == 2 {
                flag.store(true, Ordering::SeqCst);
            }
            i
        });
        assert_eq!(out, [Some(0), Some(1), Some(2), None, None]);
        assert!(exec.stopped());
    }

    #[test]
    fn progress_counts_every_item() {
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let exec = Executor::new(Some(3)).on_progress(Arc::new(move |_, total| {
            assert_eq!(total, 7);
            s.fetch_add(1, Ordering::SeqCst);
        }));
        exec.map(&[0; 7], |_| ());
        assert_eq!(seen.load(Ordering::SeqCst), 7);
    }
}
