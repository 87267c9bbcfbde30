//! Fragmentation-aware placement after "fragmentation gradient descent" (Weng et al., "Beware of
//! Fragmentation", USENIX ATC '23): place each pod where the cluster's expected fragmentation
//! grows least.
//!
//! A node's fragmentation for a task type is the free GPU capacity that type could not use there:
//! all of it if the type may not run on the node's GPU model or does not fit its free CPU, memory
//! or GPUs; otherwise the free capacity on GPUs too small for the type (partly used GPUs, for
//! whole-GPU types). The expected fragmentation weighs task types (shape and allowed GPU models)
//! by their popularity among the pods seen so far. CPU-only pods count too: one that takes the
//! last CPUs of a GPU node strands its GPUs, and their type makes that visible.
//!
//! Cost per pod: O(distinct node states x types x GPUs per node); identical node states are
//! scored once.

use fairway_engine::{
    Allowed, Cluster, GpuNeed, JobSpec, ModelId, ModelSet, NodeId, Placement, PodRequest, PodSlot,
};
use std::collections::HashMap;

/// How many of the most common pod shapes make up the task distribution.
const TYPES: usize = 32;
/// The distribution is recomputed after this many new pods.
const REFRESH: u64 = 64;

/// A node's free resources, as the placement sees them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct NodeState {
    model: Option<ModelId>,
    cpu: u64,
    mem: u64,
    gpus: Vec<u16>,
}

impl NodeState {
    fn of(cluster: &Cluster, n: NodeId) -> Self {
        let (cpu, mem) = cluster.free_cpu_mem(n);
        NodeState {
            model: cluster.node_pool(n).model,
            cpu,
            mem,
            gpus: cluster.gpu_free(n).to_vec(),
        }
    }
}

/// A task type: a pod shape, the GPU models it may use, and its share of the pods seen.
type Type = (PodRequest, ModelSet, f64);

#[derive(Debug, Default)]
pub struct Fgd {
    counts: HashMap<(u32, u64, u64, u64), u64>,
    types: Vec<Type>,
    seen_since_refresh: u64,
}

impl Fgd {
    fn refresh(&mut self) {
        let mut v: Vec<((u32, u64, u64, u64), u64)> = self.counts.iter().map(|(k, c)| (*k, *c)).collect();
        // Most common first; ties in a fixed order so runs repeat.
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(TYPES);
        let total: u64 = v.iter().map(|x| x.1).sum();
        self.types = v
            .into_iter()
            .map(|((g, c, m, models), n)| {
                (
                    PodRequest {
                        gpu_milli: g,
                        cpu_milli: c,
                        mem_mib: m,
                    },
                    ModelSet(models),
                    n as f64 / total as f64,
                )
            })
            .collect();
        self.seen_since_refresh = 0;
    }

    /// Free GPU capacity (milli-GPU) a pod of type `m` could not use on a node in state `s`.
    fn fragment(s: &NodeState, m: &PodRequest, models: ModelSet) -> u64 {
        let free: u64 = s.gpus.iter().map(|&f| u64::from(f)).sum();
        if !models.admits(s.model) || m.cpu_milli > s.cpu || m.mem_mib > s.mem {
            return free;
        }
        match m.gpu_need() {
            GpuNeed::None => 0,
            GpuNeed::Whole(k) => {
                let whole = s.gpus.iter().filter(|&&f| f == 1000).count() as u32;
                if whole < k {
                    free
                } else {
                    s.gpus.iter().filter(|&&f| f < 1000).map(|&f| u64::from(f)).sum()
                }
            }
            GpuNeed::Shared(g) => s.gpus.iter().filter(|&&f| f < g).map(|&f| u64::from(f)).sum(),
        }
    }

    fn expected(types: &[Type], s: &NodeState) -> f64 {
        types
            .iter()
            .map(|(m, models, p)| p * Self::fragment(s, m, *models) as f64)
            .sum()
    }

    /// The best way to put one pod on a node in state `s`: (growth of expected fragmentation, the
    /// index of the GPU it takes for a shared pod), or `None` if it does not fit.
    fn best_on(types: &[Type], s: &NodeState, pod: &PodRequest) -> Option<(f64, Option<usize>)> {
        if pod.cpu_milli > s.cpu || pod.mem_mib > s.mem {
            return None;
        }
        let before = Self::expected(types, s);
        let mut after = s.clone();
        after.cpu -= pod.cpu_milli;
        after.mem -= pod.mem_mib;
        match pod.gpu_need() {
            GpuNeed::None => Some((Self::expected(types, &after) - before, None)),
            GpuNeed::Whole(k) => {
                let mut left = k;
                for f in after.gpus.iter_mut() {
                    if left > 0 && *f == 1000 {
                        *f = 0;
                        left -= 1;
                    }
                }
                (left == 0).then(|| (Self::expected(types, &after) - before, None))
            }
            GpuNeed::Shared(g) => {
                let mut best: Option<(f64, u16, usize)> = None;
                let mut tried: Vec<u16> = Vec::new();
                for (i, &f) in s.gpus.iter().enumerate() {
                    if f < g || tried.contains(&f) {
                        continue;
                    }
                    tried.push(f);
                    let mut t = after.clone();
                    t.gpus[i] -= g;
                    let d = Self::expected(types, &t) - before;
                    // Ties go to the fuller GPU (packing), then the lower index.
                    if best.is_none_or(|(bd, bf, _)| d < bd - 1e-9 || ((d - bd).abs() <= 1e-9 && f < bf)) {
                        best = Some((d, f, i));
                    }
                }
                best.map(|(d, _, i)| (d, Some(i)))
            }
        }
    }
}

impl Placement for Fgd {
    fn observe_arrival(&mut self, job: &JobSpec) {
        *self
            .counts
            .entry((
                job.pod.gpu_milli,
                job.pod.cpu_milli,
                job.pod.mem_mib,
                job.models.0,
            ))
            .or_insert(0) += u64::from(job.pods);
        self.seen_since_refresh += 1;
        if self.types.is_empty() || self.seen_since_refresh >= REFRESH {
            self.refresh();
        }
    }

    fn place(
        &mut self,
        cluster: &Cluster,
        pod: &PodRequest,
        pods: u32,
        allowed: &Allowed<'_>,
        out: &mut Vec<PodSlot>,
    ) -> bool {
        let own = [(*pod, allowed.models, 1.0)];
        let types: &[Type] = if self.types.is_empty() { &own } else { &self.types };
        // Nodes the gang has touched, with their state after its earlier pods.
        let mut touched: HashMap<NodeId, NodeState> = HashMap::new();
        for _ in 0..pods {
            let mut cache: HashMap<NodeState, Option<(f64, Option<usize>)>> = HashMap::new();
            let mut best: Option<(f64, NodeId, Option<usize>)> = None;
            for n in cluster.node_ids() {
                if !cluster.eligible(n, allowed) {
                    continue;
                }
                let state = touched
                    .get(&n)
                    .cloned()
                    .unwrap_or_else(|| NodeState::of(cluster, n));
                // Identical states give identical answers, up to which GPU index is named.
                let mut key = state.clone();
                key.gpus.sort_unstable();
                let r = *cache
                    .entry(key)
                    .or_insert_with(|| Self::best_on(types, &state, pod).map(|(d, _)| (d, None)));
                let Some((d, _)) = r else { continue };
                if best.is_none_or(|(bd, _, _)| d < bd - 1e-9) {
                    let choice = Self::best_on(types, &state, pod).and_then(|x| x.1);
                    best = Some((d, n, choice));
                }
            }
            let Some((_, n, gpu)) = best else {
                out.clear();
                return false;
            };
            let state = touched.entry(n).or_insert_with(|| NodeState::of(cluster, n));
            state.cpu -= pod.cpu_milli;
            state.mem -= pod.mem_mib;
            let mask = match pod.gpu_need() {
                GpuNeed::None => 0,
                GpuNeed::Whole(k) => {
                    let mut m = 0u64;
                    let mut left = k;
                    for (i, f) in state.gpus.iter_mut().enumerate() {
                        if left > 0 && *f == 1000 {
                            *f = 0;
                            m |= 1 << i;
                            left -= 1;
                        }
                    }
                    m
                }
                GpuNeed::Shared(g) => {
                    let i = gpu.expect("a shared pod names its GPU");
                    state.gpus[i] -= g;
                    1 << i
                }
            };
            out.push(PodSlot { node: n, gpus: mask });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One node with GPUs free 1000, 1000, 500, 200 (of which the last two partly used).
    fn state() -> NodeState {
        NodeState {
            model: Some(ModelId(1)),
            cpu: 64_000,
            mem: 1 << 20,
            gpus: vec![1000, 1000, 500, 200],
        }
    }

    fn pod(g: u32) -> PodRequest {
        PodRequest {
            gpu_milli: g,
            cpu_milli: 1000,
            mem_mib: 1024,
        }
    }

    #[test]
    fn fragmentation_counts_what_a_type_cannot_use() {
        let s = state();
        // A whole-GPU type cannot use the 500 and 200 on partly used GPUs.
        assert_eq!(Fgd::fragment(&s, &pod(1000), ModelSet::ANY), 700);
        // A 3-GPU type does not fit (only 2 whole GPUs): all 2700 is fragment.
        assert_eq!(Fgd::fragment(&s, &pod(3000), ModelSet::ANY), 2700);
        // A 0.3 GPU type can use every GPU but the one with 200 left.
        assert_eq!(Fgd::fragment(&s, &pod(300), ModelSet::ANY), 200);
        // Not enough CPU: everything is fragment.
        let cpu_hungry = PodRequest {
            gpu_milli: 300,
            cpu_milli: 100_000,
            mem_mib: 1,
        };
        assert_eq!(Fgd::fragment(&s, &cpu_hungry, ModelSet::ANY), 2700);
        // A type that may only use another GPU model: everything is fragment.
        let elsewhere = ModelSet::ANY.with(ModelId(0));
        assert_eq!(Fgd::fragment(&s, &pod(300), elsewhere), 2700);
        assert_eq!(Fgd::fragment(&s, &pod(300), elsewhere.with(ModelId(1))), 200);
    }

    #[test]
    fn a_share_goes_where_it_fragments_least() {
        // Workload of whole-GPU pods only: a 0.5 share should take the GPU with 500 left (whole
        // GPUs stay whole; fragment drops from 700 to 200), not a whole GPU (fragment 1200).
        let types = [(pod(1000), ModelSet::ANY, 1.0)];
        let (d, gpu) = Fgd::best_on(&types, &state(), &pod(500)).unwrap();
        assert_eq!(gpu, Some(2));
        assert_eq!(d, -500.0);
    }
}
