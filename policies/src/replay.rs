//! Replays the trace's own start times: an accounting check, not a scheduler.

use fairway_engine::{Cycle, JobId, JobSpec, Policy, SimTime, Transition};
use std::collections::BTreeSet;

/// Starts each job at the start time the trace recorded (or as soon after as it fits). Jobs the
/// trace never started are never started; they wait until they give up or the run ends.
#[derive(Debug, Default)]
pub struct Replay {
    due: BTreeSet<(SimTime, JobId)>,
    wake: Option<SimTime>,
}

impl Policy for Replay {
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
        let Some(start) = spec.recorded_start.get() else {
            return;
        };
        let key = (start.max(spec.submit), job);
        match what {
            Transition::Submitted | Transition::Preempted => {
                self.due.insert(key);
            }
            Transition::Started | Transition::Abandoned | Transition::Unschedulable => {
                self.due.remove(&key);
            }
            Transition::Finished => {}
        }
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        let now = cx.now();
        for &(t, j) in &self.due {
            if t > now {
                if self.wake.is_none_or(|w| w <= now || w > t) {
                    self.wake = Some(t);
                    cx.wake_at(t);
                }
                break;
            }
            if cx.is_pending(j) {
                cx.try_start(j);
            }
        }
    }
}
