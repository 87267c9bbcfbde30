//! The queue of pending jobs, in submit order.

use crate::ids::JobId;
use crate::outcome::JobRun;
use crate::policy::JobStatus;

/// Jobs waiting to start, in submit order (job id order). Entries of jobs that left the queue are
/// dropped lazily: from the front before each pass, and all at once when half are dead, so that
/// the queue's head is found in constant time however long the queue grows.
#[derive(Debug, Default)]
pub(crate) struct PendingQueue {
    pub(crate) ids: Vec<JobId>,
    /// Entries before `start` are dead and ignored.
    pub(crate) start: usize,
    /// Dead entries at or after `start`.
    pub(crate) tombstones: usize,
}

impl PendingQueue {
    pub(crate) fn live(&self) -> &[JobId] {
        &self.ids[self.start..]
    }

    /// Drops dead entries from the front, and compacts when half the entries are dead.
    pub(crate) fn tidy(&mut self, runs: &mut [JobRun]) {
        while let Some(&id) = self.ids.get(self.start) {
            if runs[id.index()].status == JobStatus::Pending {
                break;
            }
            runs[id.index()].in_queue = false;
            self.start += 1;
            self.tombstones -= 1;
        }
        if self.start * 2 > self.ids.len() || self.tombstones * 2 > self.ids.len() - self.start {
            self.ids.drain(..self.start);
            self.start = 0;
            self.ids.retain(|id| {
                let keep = runs[id.index()].status == JobStatus::Pending;
                runs[id.index()].in_queue = keep;
                keep
            });
            self.tombstones = 0;
        }
    }

    /// Puts a preempted job back at its submit-order position, unless its old entry is still
    /// in the queue (then it is live again already).
    pub(crate) fn requeue(&mut self, job: JobId, r: &mut JobRun) {
        if r.in_queue {
            return;
        }
        let pos = self.start + self.ids[self.start..].partition_point(|&x| x < job);
        if pos == self.start && self.start > 0 {
            // Every entry before `start` is dead: reuse the last one.
            self.start -= 1;
            self.ids[self.start] = job;
        } else {
            self.ids.insert(pos, job);
        }
        r.in_queue = true;
    }
}
