//! The closed set of events and the queue that orders them by (time, insertion sequence).
//!
//! Arrivals are not in this queue: the workload is already sorted by submit time, so the engine
//! reads it through a cursor, which keeps the heap small on million-job traces.

use crate::ids::{JobId, NodeId};
use crate::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Something that happens at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A run of a job completes its work. `epoch` identifies the run: a job preempted meanwhile
    /// has a newer epoch, and the stale completion is ignored when it pops.
    Finish { job: JobId, epoch: u32 },
    /// A job's patience runs out; it leaves the queue if it has not started by now.
    Abandon { job: JobId },
    /// A wake-up the policy asked for.
    Wake,
    /// A node fails: its pods are evicted and it takes no new ones.
    NodeDown { node: NodeId },
    /// A failed node is back.
    NodeUp { node: NodeId },
}

#[derive(Debug, PartialEq, Eq)]
struct Entry {
    time: SimTime,
    seq: u64,
    event: Event,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we pop the earliest (time, seq) first.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Events in (time, sequence) order: equal times pop in the order they were pushed.
#[derive(Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl EventQueue {
    pub fn push(&mut self, time: SimTime, event: Event) {
        self.seq += 1;
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
    }
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }
    /// Pops the next event if it happens at `time`.
    pub fn pop_at(&mut self, time: SimTime) -> Option<Event> {
        if self.peek_time() == Some(time) {
            self.heap.pop().map(|e| e.event)
        } else {
            None
        }
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
}
