//! fairway's scheduling policies and placements, and the registry that builds them by name.
//!
//! A policy decides which pending jobs start (through [`fairway_engine::Cycle`]); a placement
//! decides which nodes and GPUs their pods take. Both are built from a [`Spec`]
//! (`name[key=value,...]`) through a [`Registry`], which a crate outside this one can extend.

mod backfill;
pub mod estimate;
mod fgd;
pub mod kueue;
mod las;
mod placement;
mod preemptive;
mod queue;
pub mod registry;
mod replay;
mod share;
mod size;
pub mod spec;
#[cfg(test)]
mod testkit;

pub use backfill::{BackfillOrder, EasyBackfill};

/// Per-job state a policy keeps beside the engine's, looked up on every pass: hashed with a
/// fixed-seed fast hash (nothing iterates these maps, so their order is never seen).
pub(crate) type JobMap<V> = std::collections::HashMap<fairway_engine::JobId, V, foldhash::fast::FixedState>;
pub use estimate::{EstimateMode, Estimator};
pub use kueue::Kueue;
pub use las::Las;
pub use placement::{BestFit, Fgd, FirstFit, RandomFit, Spread};
pub use queue::{Fifo, PriorityFirst, QueueMode};
pub use registry::{
    ParamDecl, PlacementEntry, PolicyEntry, Registry, RegistryError, ResolvedPlacement, ResolvedPolicy,
    Setup, placement, policy,
};
pub use replay::Replay;
pub use share::{Drf, FairShare};
pub use size::{Sjf, Srtf};
pub use spec::{Param, Spec, SpecSyntaxError};
