//! Where pods go: first-fit and best-fit. Both place a whole gang or nothing.

use fairway_engine::{Allowed, Cluster, JobSpec, NodeId, Placement, PodRequest, PodSlot, PoolId};

pub use crate::fgd::Fgd;

/// For a policy's what-if copy of the cluster: takes the pods of `spec` at `slots` and keeps
/// them if `keep` says so on the result; if not, or if a pod does not fit, gives back what was
/// taken, leaving the cluster as it was (a take that fails changes nothing). Costs O(pods), where
/// trying on a copy of the cluster costs O(nodes).
pub(crate) fn take_if(
    cluster: &mut Cluster,
    spec: &JobSpec,
    slots: &[PodSlot],
    keep: impl FnOnce(&Cluster) -> bool,
) -> bool {
    let mut taken = 0;
    let kept = slots.iter().all(|&s| {
        let ok = cluster.take(&spec.pod, s, spec.models).is_ok();
        taken += usize::from(ok);
        ok
    }) && keep(cluster);
    if !kept {
        for &s in &slots[..taken] {
            cluster.give_back(&spec.pod, s);
        }
    }
    kept
}

/// Takes the lowest-numbered eligible nodes, as many pods on each as fit.
#[derive(Clone, Copy, Debug, Default)]
pub struct FirstFit;

impl Placement for FirstFit {
    fn place(
        &mut self,
        cluster: &Cluster,
        pod: &PodRequest,
        pods: u32,
        allowed: &Allowed<'_>,
        out: &mut Vec<PodSlot>,
    ) -> bool {
        // Eligibility is per pool and pools are node ranges: walk the eligible pools in node
        // order, and within each jump from one node with room to the next through the cluster's
        // index, so full nodes cost nothing.
        let mut left = pods;
        for (i, p) in cluster.pools().iter().enumerate() {
            if left == 0 {
                break;
            }
            if !cluster.pool_allowed(PoolId(i as u32), allowed) {
                continue;
            }
            let mut from = NodeId(p.nodes.start);
            while left > 0 {
                let Some(node) = cluster.first_with_room(from, p.nodes.end, pod) else {
                    break;
                };
                let k = cluster.pods_that_fit(node, pod).min(left);
                if k > 0 && cluster.pick_slots(node, pod, k, out) {
                    left -= k;
                }
                from = NodeId(node.0 + 1);
            }
        }
        finish(left, out)
    }
}

/// Packs: the fullest eligible node that fits (fewest free GPUs, then CPU, then memory; ties to
/// the lowest node number), as many pods on it as fit, then the next fullest.
#[derive(Clone, Debug, Default)]
pub struct BestFit {
    candidates: Vec<((u64, u64, u64), NodeId, u32)>,
}

impl Placement for BestFit {
    fn place(
        &mut self,
        cluster: &Cluster,
        pod: &PodRequest,
        pods: u32,
        allowed: &Allowed<'_>,
        out: &mut Vec<PodSlot>,
    ) -> bool {
        if pods == 1 {
            let best = cluster
                .node_ids()
                .filter(|&n| cluster.eligible(n, allowed) && cluster.pods_that_fit(n, pod) > 0)
                .min_by_key(|&n| (cluster.free_key(n), n));
            return match best {
                Some(n) => cluster.pick_slots(n, pod, 1, out),
                None => false,
            };
        }
        self.candidates.clear();
        for n in cluster.node_ids() {
            if !cluster.eligible(n, allowed) {
                continue;
            }
            let k = cluster.pods_that_fit(n, pod);
            if k > 0 {
                self.candidates.push((cluster.free_key(n), n, k));
            }
        }
        self.candidates.sort_unstable();
        let mut left = pods;
        for &(_, n, k) in &self.candidates {
            if left == 0 {
                break;
            }
            let k = k.min(left);
            if cluster.pick_slots(n, pod, k, out) {
                left -= k;
            }
        }
        finish(left, out)
    }
}

/// Nodes with room for the job's pod and how many pods each takes: scratch reused across calls so
/// placing allocates nothing once warm.
#[derive(Clone, Debug, Default)]
struct Picks {
    /// (node, pods that fit on it)
    nodes: Vec<(NodeId, u32)>,
    take: Vec<u32>,
}

impl Picks {
    /// Collects the eligible nodes with room for at least one pod, in node order.
    fn collect(&mut self, cluster: &Cluster, pod: &PodRequest, allowed: &Allowed<'_>) {
        self.nodes.clear();
        for n in cluster.node_ids() {
            let k = cluster.pods_allowed(n, pod, allowed);
            if k > 0 {
                self.nodes.push((n, k));
            }
        }
        self.take.clear();
        self.take.resize(self.nodes.len(), 0);
    }

    fn room(&self) -> u64 {
        self.nodes.iter().map(|&(_, k)| u64::from(k)).sum()
    }

    /// Picks the slots for the counts in `take`; all or nothing.
    fn commit(&self, cluster: &Cluster, pod: &PodRequest, out: &mut Vec<PodSlot>) -> bool {
        for (i, &(n, _)) in self.nodes.iter().enumerate() {
            if self.take[i] > 0 && !cluster.pick_slots(n, pod, self.take[i], out) {
                out.clear();
                return false;
            }
        }
        true
    }
}

/// Spreads (worst-fit): the emptiest eligible node first (most free GPUs, then CPU, then
/// memory), one pod per node in turn, so a gang lands on as many nodes as it can.
/// Cost: O(n log n) for n eligible nodes.
#[derive(Clone, Debug, Default)]
pub struct Spread {
    picks: Picks,
}

impl Placement for Spread {
    fn place(
        &mut self,
        cluster: &Cluster,
        pod: &PodRequest,
        pods: u32,
        allowed: &Allowed<'_>,
        out: &mut Vec<PodSlot>,
    ) -> bool {
        let p = &mut self.picks;
        p.collect(cluster, pod, allowed);
        if p.room() < u64::from(pods) {
            return false;
        }
        // Emptiest first; node order breaks ties.
        p.nodes
            .sort_unstable_by_key(|&(n, _)| (std::cmp::Reverse(cluster.free_key(n)), n));
        let mut left = pods;
        while left > 0 {
            for (i, &(_, k)) in p.nodes.iter().enumerate() {
                if left > 0 && p.take[i] < k {
                    p.take[i] += 1;
                    left -= 1;
                }
            }
        }
        p.commit(cluster, pod, out)
    }
}

/// A random eligible node for each pod (seeded, so runs repeat). Cost: O(n + pods).
#[derive(Clone, Debug)]
pub struct RandomFit {
    rng: rand_pcg::Pcg64Mcg,
    picks: Picks,
    open: Vec<usize>,
}

impl RandomFit {
    pub fn new(seed: u64) -> Self {
        use rand::SeedableRng;
        RandomFit {
            rng: rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ 0x706c_6163_656d_656e),
            picks: Picks::default(),
            open: Vec::new(),
        }
    }
}

impl Placement for RandomFit {
    fn place(
        &mut self,
        cluster: &Cluster,
        pod: &PodRequest,
        pods: u32,
        allowed: &Allowed<'_>,
        out: &mut Vec<PodSlot>,
    ) -> bool {
        use rand::RngExt;
        let p = &mut self.picks;
        p.collect(cluster, pod, allowed);
        if p.room() < u64::from(pods) {
            return false;
        }
        // Each pod picks a node with room left, uniformly.
        self.open.clear();
        self.open.extend(0..p.nodes.len());
        for _ in 0..pods {
            let pick = self.rng.random_range(0..self.open.len());
            let i = self.open[pick];
            p.take[i] += 1;
            if p.take[i] == p.nodes[i].1 {
                self.open.swap_remove(pick);
            }
        }
        p.commit(cluster, pod, out)
    }
}

/// All pods placed, or none: a partial gang is thrown away.
fn finish(left: u32, out: &mut Vec<PodSlot>) -> bool {
    if left > 0 {
        out.clear();
        false
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairway_engine::{ClusterSpec, ModelSet, PoolSpec};

    fn req(gpu_milli: u32) -> PodRequest {
        PodRequest {
            gpu_milli,
            cpu_milli: 1000,
            mem_mib: 1024,
        }
    }

    /// Three nodes of 8 GPUs; node 1 has 6 of them taken.
    fn cluster() -> Cluster {
        let mut c = Cluster::new(&ClusterSpec {
            pools: vec![PoolSpec::new("a", Some("H100"), 3, 8, 64, 512)],
        })
        .unwrap();
        c.take(
            &req(6000),
            PodSlot {
                node: NodeId(1),
                gpus: 0b11_1111,
            },
            ModelSet::ANY,
        )
        .unwrap();
        c
    }

    #[test]
    fn first_fit_takes_the_lowest_node_and_best_fit_the_fullest() {
        let c = cluster();
        let mut out = Vec::new();
        assert!(FirstFit.place(&c, &req(2000), 1, &Allowed::models(ModelSet::ANY), &mut out));
        assert_eq!(
            out,
            vec![PodSlot {
                node: NodeId(0),
                gpus: 0b11
            }]
        );
        out.clear();
        assert!(BestFit::default().place(&c, &req(2000), 1, &Allowed::models(ModelSet::ANY), &mut out));
        assert_eq!(
            out,
            vec![PodSlot {
                node: NodeId(1),
                gpus: 0b1100_0000
            }],
            "packs onto the node with 2 free GPUs"
        );
        // Too large for node 1: best-fit falls back to the lowest of the equally empty nodes.
        out.clear();
        assert!(BestFit::default().place(&c, &req(4000), 1, &Allowed::models(ModelSet::ANY), &mut out));
        assert_eq!(out[0].node, NodeId(0));
    }

    /// First-fit as its definition reads: every node in order, as many pods as fit.
    fn first_fit_by_scan(c: &Cluster, pod: &PodRequest, pods: u32, allowed: &Allowed<'_>) -> Vec<PodSlot> {
        let mut out = Vec::new();
        let mut left = pods;
        for n in c.node_ids() {
            if left > 0 && c.eligible(n, allowed) {
                let k = c.pods_that_fit(n, pod).min(left);
                if k > 0 && c.pick_slots(n, pod, k, &mut out) {
                    left -= k;
                }
            }
        }
        if left > 0 {
            out.clear();
        }
        out
    }

    proptest::proptest! {
        /// The indexed first-fit picks exactly what the scan picks, on clusters of several pools
        /// and models, partly filled with whole and shared GPUs, some nodes down.
        #[test]
        fn first_fit_through_the_index_equals_the_scan(
            fills in proptest::collection::vec((0usize..40, 0u32..4, 0u32..2000), 0..120),
            down in proptest::collection::vec(0u32..40, 0..6),
            asks in proptest::collection::vec((0u32..5000, 1u32..6, 0u64..40, 0u8..3), 1..20),
        ) {
            let mut c = Cluster::new(&ClusterSpec {
                pools: vec![
                    PoolSpec::new("a", Some("A100"), 13, 8, 64, 512),
                    PoolSpec::new("cpu", None, 5, 0, 32, 128),
                    PoolSpec::new("h", Some("H100"), 22, 4, 96, 768),
                ],
            })
            .unwrap();
            // Fill through the scan's own choice of slots (the cluster checks every take).
            for (node, kind, milli) in fills {
                let n = NodeId(node as u32);
                let r = match kind {
                    0 => req(1000 * (1 + milli % 3)),
                    1 => req(100 + milli % 900),
                    2 => PodRequest { gpu_milli: 0, cpu_milli: 4000, mem_mib: 8192 },
                    _ => req(0),
                };
                let mut out = Vec::new();
                if c.pods_that_fit(n, &r) > 0 && c.pick_slots(n, &r, 1, &mut out) {
                    c.take(&r, out[0], ModelSet::ANY).unwrap();
                }
            }
            for d in down {
                c.set_up(NodeId(d), false);
            }
            let h100 = ModelSet::ANY.with(c.model_id("H100").unwrap());
            for (milli, pods, cpu, which) in asks {
                let pod = PodRequest { gpu_milli: milli, cpu_milli: cpu * 1000, mem_mib: 1024 };
                let allowed = match which {
                    0 => Allowed::models(ModelSet::ANY),
                    1 => Allowed::models(h100),
                    _ => Allowed { kind: fairway_engine::JobKind::Interactive, ..Allowed::models(ModelSet::ANY) },
                };
                let mut out = Vec::new();
                let placed = FirstFit.place(&c, &pod, pods, &allowed, &mut out);
                let scan = first_fit_by_scan(&c, &pod, pods, &allowed);
                proptest::prop_assert_eq!(placed, !scan.is_empty());
                proptest::prop_assert_eq!(out, scan);
            }
        }
    }

    #[test]
    fn gangs_span_nodes_or_are_not_placed() {
        let c = cluster();
        let mut out = Vec::new();
        // 5 pods x 4 GPUs: nodes 0 and 2 take 2 each, node 1 none: only 4 fit, so none is placed.
        assert!(!FirstFit.place(&c, &req(4000), 5, &Allowed::models(ModelSet::ANY), &mut out));
        assert!(out.is_empty());
        assert!(!BestFit::default().place(&c, &req(4000), 5, &Allowed::models(ModelSet::ANY), &mut out));
        assert!(out.is_empty());
        // 9 pods x 2 GPUs: best-fit fills node 1 (1 pod) first, then nodes 0 and 2.
        assert!(BestFit::default().place(&c, &req(2000), 9, &Allowed::models(ModelSet::ANY), &mut out));
        let on: Vec<u32> = out.iter().map(|s| s.node.0).collect();
        assert_eq!(on, vec![1, 0, 0, 0, 0, 2, 2, 2, 2]);
        out.clear();
        assert!(FirstFit.place(&c, &req(2000), 9, &Allowed::models(ModelSet::ANY), &mut out));
        let on: Vec<u32> = out.iter().map(|s| s.node.0).collect();
        assert_eq!(on, vec![0, 0, 0, 0, 1, 2, 2, 2, 2]);
    }

    #[test]
    fn model_constraints_and_down_nodes_are_respected() {
        let c = Cluster::new(&ClusterSpec {
            pools: vec![
                PoolSpec::new("a", Some("A100"), 1, 8, 64, 512),
                PoolSpec::new("h", Some("H100"), 1, 8, 64, 512),
            ],
        })
        .unwrap();
        let h100 = ModelSet::ANY.with(c.model_id("H100").unwrap());
        for p in [&mut FirstFit as &mut dyn Placement, &mut BestFit::default()] {
            let mut out = Vec::new();
            assert!(p.place(&c, &req(1000), 1, &Allowed::models(h100), &mut out));
            assert_eq!(out[0].node, NodeId(1), "{}", p.label());
        }
    }
}
