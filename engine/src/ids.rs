//! Dense integer ids: each indexes a `Vec` the engine owns.

use std::fmt;

macro_rules! dense_id {
    ($(#[$doc:meta])* $name:ident($ty:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $ty);

        impl $name {
            /// The position in the owning table.
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

dense_id!(
    /// A job: its position in the workload (which is sorted by submit time).
    JobId(u32)
);
dense_id!(
    /// A node of the modelled cluster.
    NodeId(u32)
);
dense_id!(
    /// A pool: a group of identical nodes.
    PoolId(u32)
);
dense_id!(
    /// A team (tenant), the unit of fairness and quota.
    TeamId(u32)
);
dense_id!(
    /// A user inside a team, when the trace names one.
    UserId(u32)
);
dense_id!(
    /// A GPU model (H100, A100, T4, ...), in the table of the cluster or the workload.
    ModelId(u8)
);

/// A set of GPU models, at most 64. The empty set means "any model".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ModelSet(pub u64);

impl ModelSet {
    pub const ANY: ModelSet = ModelSet(0);
    /// The most distinct GPU models one table can hold.
    pub const CAPACITY: usize = 64;

    pub fn is_any(self) -> bool {
        self.0 == 0
    }
    pub fn with(self, m: ModelId) -> ModelSet {
        ModelSet(self.0 | (1u64 << m.0))
    }
    pub fn contains(self, m: ModelId) -> bool {
        self.0 & (1u64 << m.0) != 0
    }
    /// Whether a node of model `m` (`None` for a node without GPUs) satisfies this constraint.
    pub fn admits(self, m: Option<ModelId>) -> bool {
        self.is_any() || m.is_some_and(|m| self.contains(m))
    }
    pub fn iter(self) -> impl Iterator<Item = ModelId> {
        (0..64u8).filter(move |b| self.0 & (1u64 << b) != 0).map(ModelId)
    }
}
