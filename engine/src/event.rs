//! The closed set of events and the queue that orders them by (time, insertion sequence).
//!
//! Arrivals are not in this queue: the workload is already sorted by submit time, so the engine
//! reads it through a cursor, which keeps the heap small on million-job traces.

use crate::ids::{JobId, NodeId};
use crate::time::SimTime;

/// Something that happens at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A run of a job completes its work. `live` is the engine's entry for the job while it is
    /// in the system and `epoch` identifies the run: a job preempted meanwhile has a newer epoch,
    /// and the stale completion is ignored when it pops.
    Finish { job: JobId, live: u32, epoch: u32 },
    /// A job's patience runs out; it leaves the queue if it has not started by now.
    Abandon { job: JobId },
    /// A wake-up the policy asked for.
    Wake,
    /// A node fails: its pods are evicted and it takes no new ones.
    NodeDown { node: NodeId },
    /// A failed node is back.
    NodeUp { node: NodeId },
}

/// Events in (time, sequence) order: equal times pop in the order they were pushed.
///
/// A 4-ary min-heap over packed keys (time in the high 64 bits, push sequence in the low), with
/// the events in a parallel array: a level's four child keys share a cache line or two, and the
/// heap is half as deep as a binary one. Push and pop are O(log n).
#[derive(Debug, Default)]
pub struct EventQueue {
    keys: Vec<u128>,
    events: Vec<Event>,
    seq: u64,
}

/// Children per node.
const ARITY: usize = 4;

impl EventQueue {
    pub fn push(&mut self, time: SimTime, event: Event) {
        self.seq += 1;
        let key = (u128::from(time.0) << 64) | u128::from(self.seq);
        let mut i = self.keys.len();
        self.keys.push(key);
        self.events.push(event);
        // Sift up: move parents down until the new key's place is found.
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.keys[parent] <= key {
                break;
            }
            self.keys[i] = self.keys[parent];
            self.events[i] = self.events[parent];
            i = parent;
        }
        self.keys[i] = key;
        self.events[i] = event;
    }
    pub fn peek_time(&self) -> Option<SimTime> {
        self.keys.first().map(|&k| SimTime((k >> 64) as u64))
    }
    /// Pops the next event if it happens at `time`.
    pub fn pop_at(&mut self, time: SimTime) -> Option<Event> {
        if self.peek_time() != Some(time) {
            return None;
        }
        let top = self.events[0];
        let (Some(key), Some(event)) = (self.keys.pop(), self.events.pop()) else {
            return None;
        };
        let n = self.keys.len();
        if n > 0 {
            // Sift the last entry down from the root.
            let mut i = 0;
            loop {
                let first = ARITY * i + 1;
                if first >= n {
                    break;
                }
                let last = (first + ARITY).min(n);
                let mut c = first;
                for j in first + 1..last {
                    if self.keys[j] < self.keys[c] {
                        c = j;
                    }
                }
                if self.keys[c] >= key {
                    break;
                }
                self.keys[i] = self.keys[c];
                self.events[i] = self.events[c];
                i = c;
            }
            self.keys[i] = key;
            self.events[i] = event;
        }
        Some(top)
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_pop_in_push_order() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), Event::Wake);
        q.push(SimTime(3), Event::Abandon { job: JobId(1) });
        q.push(SimTime(5), Event::Abandon { job: JobId(2) });
        q.push(SimTime(3), Event::Abandon { job: JobId(0) });
        assert_eq!(q.peek_time(), Some(SimTime(3)));
        assert_eq!(q.pop_at(SimTime(3)), Some(Event::Abandon { job: JobId(1) }));
        assert_eq!(q.pop_at(SimTime(3)), Some(Event::Abandon { job: JobId(0) }));
        assert_eq!(q.pop_at(SimTime(3)), None);
        assert_eq!(q.pop_at(SimTime(5)), Some(Event::Wake));
        assert_eq!(q.pop_at(SimTime(5)), Some(Event::Abandon { job: JobId(2) }));
        assert!(q.is_empty());
    }

    proptest::proptest! {
        /// Any interleaving of pushes and pops comes out as a sorted reference gives it: by time,
        /// then by push order.
        #[test]
        fn pops_in_time_then_push_order(ops in proptest::collection::vec((0u64..40, proptest::bool::ANY), 0..400)) {
            let mut q = EventQueue::default();
            let mut reference = std::collections::BTreeSet::new();
            let mut now = 0;
            for (n, (dt, pop)) in ops.into_iter().enumerate() {
                if pop {
                    if let Some(t) = q.peek_time() {
                        let &(rt, rn) = reference.first().expect("the reference agrees");
                        proptest::prop_assert_eq!(t, SimTime(rt));
                        proptest::prop_assert_eq!(q.pop_at(t), Some(Event::Abandon { job: JobId(rn) }));
                        reference.pop_first();
                        now = rt;
                    }
                } else {
                    // Events are scheduled at or after the last popped time, as in a run.
                    let t = now + dt / 4;
                    q.push(SimTime(t), Event::Abandon { job: JobId(n as u32) });
                    reference.insert((t, n as u32));
                }
                proptest::prop_assert_eq!(q.len(), reference.len());
            }
            while let Some(t) = q.peek_time() {
                let (rt, rn) = reference.pop_first().expect("as many events");
                proptest::prop_assert_eq!((t, q.pop_at(t)), (SimTime(rt), Some(Event::Abandon { job: JobId(rn) })));
            }
            proptest::prop_assert!(reference.is_empty());
        }
    }
}
