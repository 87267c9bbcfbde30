//! What a workload-inflation run produced, and the run itself: pods arrive in a given order and
//! never leave; each is placed by the placement under test on an empty copy of the cluster, or
//! fails if it does not fit. The scenario's `inflation` module draws the order and runs this
//! for each placement; the reports turn the curves into tables and charts.

use crate::cluster::{Allowed, Cluster, PodSlot};
use crate::job::Workload;
use crate::policy::Placement;

/// One arrival of the experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// Index of the job in the workload.
    pub job: usize,
    /// Whether all its pods were placed.
    pub placed: bool,
    /// GPU demand that has arrived so far, this arrival included (milli-GPU).
    pub arrived_gpu_milli: u64,
    /// GPU capacity allocated after this arrival (milli-GPU).
    pub allocated_gpu_milli: u64,
}

/// The experiment's result for one placement.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub placement: String,
    pub capacity_gpu_milli: u64,
    pub arrivals: Vec<Arrival>,
}

impl Curve {
    /// Allocated GPU capacity as a fraction of the cluster's, after the last arrival.
    pub fn final_ratio(&self) -> f64 {
        self.arrivals.last().map_or(0.0, |a| {
            a.allocated_gpu_milli as f64 / self.capacity_gpu_milli as f64
        })
    }

    /// Allocation ratio at the first arrival that brings arrived demand to `demand` (a fraction of
    /// capacity), if the experiment got that far.
    pub fn ratio_at(&self, demand: f64) -> Option<f64> {
        let cap = self.capacity_gpu_milli as f64;
        self.arrivals
            .iter()
            .find(|a| a.arrived_gpu_milli as f64 >= demand * cap)
            .map(|a| a.allocated_gpu_milli as f64 / cap)
    }

    /// Arrivals that did not fit.
    pub fn failed(&self) -> usize {
        self.arrivals.iter().filter(|a| !a.placed).count()
    }
}

/// A placement broke its contract during an inflation run.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InflationError {
    #[error("placement {placement} gave {slots} slots for the {pods} pods of job {job}")]
    SlotCount {
        placement: String,
        slots: usize,
        pods: u32,
        job: String,
    },
    #[error("placement {placement} put job {job} where it does not fit: {source}")]
    Misfit {
        placement: String,
        job: String,
        #[source]
        source: crate::cluster::TakeError,
    },
}

/// Runs the experiment for one placement on an empty copy of `cluster`.
///
/// Pods never leave, so free capacity only shrinks: a job shape (pod, pod count, allowed models,
/// kind) that found no room once finds none later, and is not tried again. Once the cluster is
/// full for every shape, the arrivals that remain cost O(1) each, so a large target costs what
/// its arrivals cost, not arrivals x nodes. (No placement changes its state on a failed try;
/// the random one draws only when there is room.)
pub fn run(
    w: &Workload,
    cluster: &Cluster,
    placement: &mut dyn Placement,
    order: &[usize],
) -> Result<Curve, InflationError> {
    let mut c = cluster.clone();
    c.bind_selectors(&w.selectors);
    let capacity = c.capacity_gpu_milli();
    let mut arrived = 0u64;
    let mut allocated = 0u64;
    let mut slots: Vec<PodSlot> = Vec::new();
    let mut arrivals = Vec::with_capacity(order.len());
    let mut no_room = std::collections::HashSet::new();
    for &j in order {
        let spec = &w.jobs[j];
        arrived += spec.gpu_milli();
        placement.observe_arrival(spec);
        slots.clear();
        let shape = (spec.pod, spec.pods, spec.models, spec.kind, spec.selector);
        let placed = !no_room.contains(&shape)
            && placement.place(&c, &spec.pod, spec.pods, &Allowed::job(spec), &mut slots);
        if !placed {
            no_room.insert(shape);
        }
        if placed {
            if slots.len() != spec.pods as usize {
                return Err(InflationError::SlotCount {
                    placement: placement.label(),
                    slots: slots.len(),
                    pods: spec.pods,
                    job: w.names[j].to_string(),
                });
            }
            for &s in &slots {
                c.take(&spec.pod, s, spec.models)
                    .map_err(|e| InflationError::Misfit {
                        placement: placement.label(),
                        job: w.names[j].to_string(),
                        source: e,
                    })?;
            }
            allocated += spec.gpu_milli();
        }
        arrivals.push(Arrival {
            job: j,
            placed,
            arrived_gpu_milli: arrived,
            allocated_gpu_milli: allocated,
        });
    }
    debug_assert_eq!(capacity - c.free_gpu_milli(), allocated);
    Ok(Curve {
        placement: placement.label(),
        capacity_gpu_milli: capacity,
        arrivals,
    })
}
