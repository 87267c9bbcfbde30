//! Fragmentation as the queue sees it: idle GPU capacity that no pending job's pod shape can use.
//!
//! A free GPU (or the free part of a shared one) on an up node is usable if some pending shape
//! may run on the node (GPU model, pools reserved for interactive work), the node has the shape's
//! CPU and memory free, and the GPU suits it: a share of g milli-GPU needs a GPU with g free; a
//! whole-GPU pod of k GPUs needs an untouched GPU and k of them on the node. Everything idle that
//! no shape can use is fragmented. With nothing pending, nothing is blocked: 0.
//!
//! Kept incrementally: the pending shapes as a multiset, and per node its fragmented capacity,
//! recomputed only for nodes that changed, or for all when the set of shapes changed. Cost per
//! recomputed node: O(GPUs + shapes).

use crate::cluster::{Allowed, Cluster};
use crate::ids::{ModelSet, NodeId};
use crate::job::{JobKind, JobSpec, SelectorId};
use crate::resources::{GPU_MILLI, GpuNeed, PodRequest};
use std::collections::HashMap;

type ShapeKey = (u32, u64, u64, u64, bool, Option<SelectorId>);

/// A pending pod shape and where it may run.
type Shape = (PodRequest, ModelSet, JobKind, Option<SelectorId>);

#[derive(Clone, Debug, Default)]
pub(crate) struct FragTracker {
    counts: HashMap<ShapeKey, u32>,
    shapes: Vec<Shape>,
    shapes_changed: bool,
    node_frag: Vec<u64>,
    dirty: Vec<NodeId>,
    is_dirty: Vec<bool>,
    total: u64,
}

fn key(spec: &JobSpec) -> ShapeKey {
    (
        spec.pod.gpu_milli,
        spec.pod.cpu_milli,
        spec.pod.mem_mib,
        spec.models.0,
        spec.kind == JobKind::Interactive,
        spec.selector,
    )
}

impl FragTracker {
    pub(crate) fn new(nodes: usize) -> Self {
        FragTracker {
            node_frag: vec![0; nodes],
            is_dirty: vec![false; nodes],
            ..FragTracker::default()
        }
    }

    pub(crate) fn pending_added(&mut self, spec: &JobSpec) {
        if spec.pod.gpu_milli == 0 {
            return; // a CPU-only shape uses no GPU capacity
        }
        let c = self.counts.entry(key(spec)).or_insert(0);
        *c += 1;
        if *c == 1 {
            self.shapes_changed = true;
        }
    }

    pub(crate) fn pending_removed(&mut self, spec: &JobSpec) {
        if spec.pod.gpu_milli == 0 {
            return;
        }
        let k = key(spec);
        if let Some(c) = self.counts.get_mut(&k) {
            *c -= 1;
            if *c == 0 {
                self.counts.remove(&k);
                self.shapes_changed = true;
            }
        }
    }

    pub(crate) fn node_changed(&mut self, n: NodeId) {
        if !self.is_dirty[n.index()] {
            self.is_dirty[n.index()] = true;
            self.dirty.push(n);
        }
    }

    /// Brings the total up to date; returns it (milli-GPU).
    pub(crate) fn update(&mut self, cluster: &Cluster) -> u64 {
        if self.shapes_changed {
            self.shapes_changed = false;
            let mut keys: Vec<&ShapeKey> = self.counts.keys().collect();
            keys.sort_unstable();
            self.shapes = keys
                .into_iter()
                .map(
                    |&(gpu_milli, cpu_milli, mem_mib, models, interactive, selector)| {
                        let kind = if interactive {
                            JobKind::Interactive
                        } else {
                            JobKind::Batch
                        };
                        (
                            PodRequest {
                                gpu_milli,
                                cpu_milli,
                                mem_mib,
                            },
                            ModelSet(models),
                            kind,
                            selector,
                        )
                    },
                )
                .collect();
            for &n in &self.dirty {
                self.is_dirty[n.index()] = false;
            }
            self.dirty.clear();
            self.total = 0;
            for n in cluster.node_ids() {
                let f = node_fragment(cluster, n, &self.shapes);
                self.node_frag[n.index()] = f;
                self.total += f;
            }
        } else {
            for &n in &self.dirty {
                self.is_dirty[n.index()] = false;
                let f = node_fragment(cluster, n, &self.shapes);
                self.total = self.total - self.node_frag[n.index()] + f;
                self.node_frag[n.index()] = f;
            }
            self.dirty.clear();
        }
        self.total
    }
}

impl FragTracker {
    /// Recomputes everything from the pending jobs and the cluster, and compares (for the
    /// engine's audit).
    pub(crate) fn check(&self, cluster: &Cluster, pending: &[&JobSpec]) -> Result<(), String> {
        let mut fresh = FragTracker::new(cluster.node_count());
        for j in pending {
            fresh.pending_added(j);
        }
        if fresh.counts != self.counts {
            return Err(format!(
                "fragmentation: {} pending shapes tracked, {} pending",
                self.counts.len(),
                fresh.counts.len()
            ));
        }
        let total = fresh.update(cluster);
        if total != self.total {
            return Err(format!(
                "fragmentation: tracked {} milli-GPU, recomputed {total}",
                self.total
            ));
        }
        let idle = cluster.free_gpu_milli();
        if total > idle {
            return Err(format!("fragmentation {total} exceeds the idle capacity {idle}"));
        }
        Ok(())
    }
}

/// Idle GPU capacity of node `n` that none of `shapes` can use.
fn node_fragment(cluster: &Cluster, n: NodeId, shapes: &[Shape]) -> u64 {
    if !cluster.is_up(n) || shapes.is_empty() {
        return 0;
    }
    let free = cluster.gpu_free(n);
    let (cpu, mem) = cluster.free_cpu_mem(n);
    let whole = free.iter().filter(|&&f| u32::from(f) == GPU_MILLI).count() as u32;
    // The smallest share some shape can put here, and whether some shape can take whole GPUs.
    let mut min_share = u32::MAX;
    let mut whole_ok = false;
    for &(pod, models, kind, selector) in shapes {
        let allowed = Allowed {
            models,
            pools: None,
            kind,
            selector,
        };
        if pod.cpu_milli > cpu || pod.mem_mib > mem || !cluster.eligible(n, &allowed) {
            continue;
        }
        match pod.gpu_need() {
            GpuNeed::None => {}
            GpuNeed::Shared(g) => min_share = min_share.min(u32::from(g)),
            GpuNeed::Whole(k) => whole_ok |= k <= whole,
        }
    }
    free.iter()
        .map(|&f| u32::from(f))
        .filter(|&f| f > 0 && !(f >= min_share || (whole_ok && f == GPU_MILLI)))
        .map(u64::from)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{ClusterSpec, PodSlot, PoolSpec};
    use crate::ids::TeamId;
    use crate::time::{SimDuration, SimTime};

    fn job(gpu_milli: u32, pods: u32) -> JobSpec {
        let pod = PodRequest {
            gpu_milli,
            cpu_milli: 1000,
            mem_mib: 1024,
        };
        JobSpec::new(SimTime(0), SimDuration(1), pods, pod, TeamId(0))
    }

    /// One node of 4 GPUs with 0.5 of GPU 0 and all of GPU 1 taken: free 500, 0, 1000, 1000.
    /// Pending 2-GPU pods can use GPUs 2 and 3, not GPU 0's half: 500 fragmented. Add a pending
    /// 0.3 share: it fits GPU 0's half, nothing fragmented. Remove both: nothing pending, 0.
    /// Pending 3-GPU pods: only 2 whole GPUs, so all 2500 idle is fragmented.
    #[test]
    fn fragmentation_is_idle_capacity_no_pending_shape_can_use() {
        let mut c = Cluster::new(&ClusterSpec {
            pools: vec![PoolSpec::new("n", Some("A100"), 1, 4, 64, 512)],
        })
        .unwrap();
        let (half, two, share, three) = (job(500, 1), job(2000, 1), job(300, 1), job(3000, 1));
        c.take(
            &half.pod,
            PodSlot {
                node: NodeId(0),
                gpus: 0b1,
            },
            ModelSet::ANY,
        )
        .unwrap();
        c.take(
            &job(1000, 1).pod,
            PodSlot {
                node: NodeId(0),
                gpus: 0b10,
            },
            ModelSet::ANY,
        )
        .unwrap();
        let mut f = FragTracker::new(1);
        assert_eq!(f.update(&c), 0);
        f.pending_added(&two);
        assert_eq!(f.update(&c), 500);
        f.pending_added(&share);
        assert_eq!(f.update(&c), 0);
        f.pending_removed(&share);
        f.pending_removed(&two);
        assert_eq!(f.update(&c), 0);
        f.pending_added(&three);
        assert_eq!(f.update(&c), 2500);
        // The shared GPU frees up: 3000 idle, 3 whole GPUs, the 3-GPU shape fits: 0.
        c.give_back(
            &half.pod,
            PodSlot {
                node: NodeId(0),
                gpus: 0b1,
            },
        );
        f.node_changed(NodeId(0));
        assert_eq!(f.update(&c), 0);
    }
}
