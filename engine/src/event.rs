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

/// Events in (time, push) order: equal times pop in the order they were pushed.
///
/// A radix heap over hexadecimal digits, which relies on what a run guarantees: nothing is
/// scheduled before the last popped time. Bucket 0 holds the events at that time, in push order,
/// read from `head`; every other event is filed by the highest digit `l` in which its time
/// differs from that time, and by its own digit `d` there. Every time in bucket `(l, d)` is
/// earlier than every time in a bucket of a higher `l`, or of the same `l` and a higher `d`.
/// When bucket 0 is used up, the lowest non-empty bucket is spread around its earliest time,
/// which becomes the last popped one: its events share that time's digits from `l` up, so each
/// lands in a lower level. An event moves at most 16 times, and in practice a few (one an hour
/// of milliseconds away, at most six): a push is O(1), a pop O(1) amortised over the moves.
/// Hexadecimal rather than binary digits, as a binary radix heap moved events about 20 times.
/// Events of one time are always in one bucket, and every move keeps their order, so they pop
/// in push order.
#[derive(Debug)]
pub struct EventQueue {
    /// Bucket 0, then `(l, d)` at `1 + 16 l + d`.
    buckets: Vec<Vec<(u64, Event)>>,
    /// The earliest time in each bucket (while not empty; bucket 0 holds `last` only).
    earliest: Vec<u64>,
    /// Bit `l` set while a bucket of level `l` is not empty.
    levels: u16,
    /// Per level, bit `d` set while bucket `(l, d)` is not empty.
    digits: [u16; LEVELS],
    head: usize,
    last: u64,
    len: usize,
}

/// Hexadecimal digits of a 64-bit time.
const LEVELS: usize = 16;

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue {
            buckets: vec![Vec::new(); 1 + LEVELS * 16],
            earliest: vec![u64::MAX; 1 + LEVELS * 16],
            levels: 0,
            digits: [0; LEVELS],
            head: 0,
            last: 0,
            len: 0,
        }
    }
}

impl EventQueue {
    /// Schedules `event` at `time`, which must not be before the last popped time (a run never
    /// schedules into its past; such an event is taken as due at that time).
    pub fn push(&mut self, time: SimTime, event: Event) {
        debug_assert!(
            time.0 >= self.last,
            "an event scheduled before the last popped time"
        );
        let t = time.0.max(self.last);
        self.len += 1;
        self.file(t, event);
    }

    fn file(&mut self, t: u64, event: Event) {
        let x = t ^ self.last;
        if x == 0 {
            self.buckets[0].push((t, event));
            return;
        }
        let l = (63 - x.leading_zeros()) / 4;
        let d = (t >> (4 * l)) & 15;
        let b = 1 + 16 * l as usize + d as usize;
        self.buckets[b].push((t, event));
        self.earliest[b] = self.earliest[b].min(t);
        self.levels |= 1 << l;
        self.digits[l as usize] |= 1 << d;
    }

    /// The lowest non-empty bucket other than 0, with its level and digit.
    fn lowest(&self) -> Option<(usize, usize, usize)> {
        if self.levels == 0 {
            return None;
        }
        let l = self.levels.trailing_zeros() as usize;
        let d = self.digits[l].trailing_zeros() as usize;
        Some((1 + 16 * l + d, l, d))
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        if self.head < self.buckets[0].len() {
            return Some(SimTime(self.last));
        }
        self.lowest().map(|(b, ..)| SimTime(self.earliest[b]))
    }

    /// Pops the next event if it happens at `time`.
    pub fn pop_at(&mut self, time: SimTime) -> Option<Event> {
        if self.head == self.buckets[0].len() {
            let (b, l, d) = self.lowest()?;
            if self.earliest[b] != time.0 {
                return None;
            }
            // Spread bucket `b` around its earliest time, which becomes the last popped one.
            self.buckets[0].clear();
            self.head = 0;
            self.last = time.0;
            self.earliest[b] = u64::MAX;
            self.digits[l] &= !(1 << d);
            if self.digits[l] == 0 {
                self.levels &= !(1 << l);
            }
            let mut spread = std::mem::take(&mut self.buckets[b]);
            for &(t, event) in &spread {
                self.file(t, event);
            }
            spread.clear();
            self.buckets[b] = spread;
        } else if self.last != time.0 {
            return None;
        }
        let (_, event) = self.buckets[0][self.head];
        self.head += 1;
        self.len -= 1;
        Some(event)
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
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
            pops_as_the_reference(ops)?;
        }

        /// The same with delays from milliseconds to a quarter of the 64-bit range, so that
        /// events spread over every level and move down through several.
        #[test]
        fn pops_in_order_over_every_scale(
            ops in proptest::collection::vec(
                (proptest::prop_oneof![0u64..8, 0u64..1 << 20, 0u64..1 << 44, u64::MAX / 8..u64::MAX / 4, proptest::prelude::Just(0)], proptest::bool::ANY),
                0..600,
            )
        ) {
            pops_as_the_reference(ops)?;
        }
    }

    /// Pushes (at the last popped time plus a quarter of the number) and pops (of the earliest
    /// event, when the flag is set), checked against a sorted reference.
    fn pops_as_the_reference(ops: Vec<(u64, bool)>) -> Result<(), proptest::test_runner::TestCaseError> {
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
                let t = now.saturating_add(dt / 4);
                q.push(SimTime(t), Event::Abandon { job: JobId(n as u32) });
                reference.insert((t, n as u32));
            }
            proptest::prop_assert_eq!(q.len(), reference.len());
        }
        while let Some(t) = q.peek_time() {
            let (rt, rn) = reference.pop_first().expect("as many events");
            proptest::prop_assert_eq!(
                (t, q.pop_at(t)),
                (SimTime(rt), Some(Event::Abandon { job: JobId(rn) }))
            );
        }
        proptest::prop_assert!(reference.is_empty());
        Ok(())
    }
}
