//! fairway's scheduling policies and placements, and the registry that builds them by name.
//!
//! A policy decides which pending jobs start (through [`fairway_engine::Cycle`]); a placement
//! decides which nodes and GPUs their pods take. Both are built from a [`Spec`]
//! (`name[key=value,...]`) by [`policy`] and [`placement`].

pub mod kueue;
mod placement;
mod queue;
pub mod registry;
mod replay;
pub mod spec;

pub use kueue::Kueue;
pub use placement::{BestFit, FirstFit};
pub use queue::{Fifo, PriorityQueue, QueueMode};
pub use registry::{Entry, PLACEMENTS, POLICIES, RegistryError, placement, policy};
pub use replay::Replay;
pub use spec::{Param, Spec, SpecSyntaxError};
