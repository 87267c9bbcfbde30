//! Kueue's quota arithmetic on the cohort tree (the "resource node" model).
//!
//! ClusterQueues and cohorts are nodes; quotas and usage are kept per flavor-resource pair (fr).
//! For a node n with lendingLimit LL and borrowingLimit BL:
//! - `SubtreeQuota(CQ) = nominal`; `SubtreeQuota(cohort) = own nominal + sum over children of
//!   (SubtreeQuota(child) - localQuota(child))`;
//! - `localQuota(n) = max(0, SubtreeQuota(n) - LL)` when LL is set, else 0: capacity only n's
//!   subtree can use;
//! - `Usage(cohort) = sum over children of max(0, Usage(child) - localQuota(child))`;
//! - `available(n) = max(0, localQuota - Usage) + min(available(parent), cap)`, with
//!   `cap = (SubtreeQuota - localQuota) - max(0, Usage - localQuota) + BL` when BL is set; at
//!   the root `SubtreeQuota - Usage`; a ClusterQueue never reports less than 0;
//! - `potentialAvailable(n) = localQuota + potentialAvailable(parent)`, capped at
//!   `SubtreeQuota + BL`; at the root `SubtreeQuota`.

use super::quantity::UNLIMITED;
use std::cmp::Ordering;

/// A node of the tree: a ClusterQueue or a cohort.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub is_cq: bool,
    /// Fair-sharing weight.
    pub weight: f64,
}

/// Quotas of one node for one fr, as configured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quota {
    pub nominal: i64,
    pub borrowing_limit: Option<i64>,
    pub lending_limit: Option<i64>,
}

/// The tree with its quotas. Usage lives apart (`Usage`), so snapshots are cheap copies.
#[derive(Clone, Debug)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub nfr: usize,
    quota: Vec<Quota>,
    subtree: Vec<i64>,
    local: Vec<i64>,
    /// Per node, its height (see `height`), asked on every nomination.
    heights: Vec<u32>,
    /// Per node, its distance from its root.
    depths: Vec<u32>,
    /// Per node and fr, `potential` (it depends on quotas only).
    potentials: Vec<i64>,
    /// Compute DRS in integers, as Kueue did before v0.13.
    pub integer_drs: bool,
}

/// Usage per node and fr.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage(pub Vec<i64>);

/// A dominant resource share, ordered as Kueue compares them: zero-weight borrowers above
/// everyone (among themselves by unweighted ratio), then by value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Share {
    pub infinite: bool,
    pub value: f64,
}

impl Share {
    pub const ZERO: Share = Share {
        infinite: false,
        value: 0.0,
    };
}

impl PartialOrd for Share {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(
            self.infinite
                .cmp(&other.infinite)
                .then(self.value.total_cmp(&other.value)),
        )
    }
}

impl Tree {
    /// Builds the tree; `quota[node * nfr + fr]` holds each node's configured quota.
    pub fn new(nodes: Vec<Node>, nfr: usize, quota: Vec<Quota>) -> Tree {
        let n = nodes.len();
        let mut t = Tree {
            nodes,
            nfr,
            quota,
            subtree: vec![0; n * nfr],
            local: vec![0; n * nfr],
            heights: Vec::new(),
            depths: Vec::new(),
            potentials: Vec::new(),
            integer_drs: false,
        };
        t.heights = (0..n).map(|x| t.compute_height(x)).collect();
        t.depths = (0..n).map(|x| t.path(x).count() as u32 - 1).collect();
        for root in 0..n {
            if t.nodes[root].parent.is_none() {
                t.compute(root);
            }
        }
        // After the quotas above: potentials derive from them.
        t.potentials = (0..n * nfr)
            .map(|i| t.compute_potential(i / nfr, i % nfr))
            .collect();
        t
    }

    fn compute(&mut self, n: usize) {
        for c in self.nodes[n].children.clone() {
            self.compute(c);
        }
        for fr in 0..self.nfr {
            let i = n * self.nfr + fr;
            let mut s = self.quota[i].nominal;
            for &c in &self.nodes[n].children {
                let j = c * self.nfr + fr;
                s = s.saturating_add(self.subtree[j] - self.local[j]);
            }
            self.subtree[i] = s.min(UNLIMITED);
            self.local[i] = match self.quota[i].lending_limit {
                Some(ll) => (s - ll).max(0),
                None => 0,
            };
        }
    }

    fn at(&self, n: usize, fr: usize) -> usize {
        n * self.nfr + fr
    }
    pub fn quota(&self, n: usize, fr: usize) -> Quota {
        self.quota[self.at(n, fr)]
    }
    pub fn subtree_quota(&self, n: usize, fr: usize) -> i64 {
        self.subtree[self.at(n, fr)]
    }
    pub fn local_quota(&self, n: usize, fr: usize) -> i64 {
        self.local[self.at(n, fr)]
    }
    pub fn empty_usage(&self) -> Usage {
        Usage(vec![0; self.nodes.len() * self.nfr])
    }
    pub fn usage(&self, u: &Usage, n: usize, fr: usize) -> i64 {
        u.0[self.at(n, fr)]
    }
    pub fn root(&self, mut n: usize) -> usize {
        while let Some(p) = self.nodes[n].parent {
            n = p;
        }
        n
    }
    /// The lowest common ancestor of two nodes, if they are in one tree.
    pub fn lca(&self, mut a: usize, mut b: usize) -> Option<usize> {
        // Lift the deeper node to the other's depth, then both together.
        while self.depths[a] > self.depths[b] {
            a = self.nodes[a].parent?;
        }
        while self.depths[b] > self.depths[a] {
            b = self.nodes[b].parent?;
        }
        while a != b {
            a = self.nodes[a].parent?;
            b = self.nodes[b].parent?;
        }
        Some(a)
    }

    /// `n` and its ancestors, `n` first.
    pub fn path(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(n), move |&x| self.nodes[x].parent)
    }

    /// Adds `delta` to a ClusterQueue's usage and carries what exceeds each local quota upwards.
    pub fn add(&self, u: &mut Usage, cq: usize, fr: usize, delta: i64) {
        let mut n = cq;
        let mut d = delta;
        loop {
            let i = self.at(n, fr);
            let old = u.0[i];
            let new = old + d;
            u.0[i] = new;
            let Some(p) = self.nodes[n].parent else { break };
            let l = self.local[i];
            d = (new - l).max(0) - (old - l).max(0);
            if d == 0 {
                break;
            }
            n = p;
        }
    }

    /// What a root node `n` can take now for `fr`.
    #[inline(always)]
    fn root_available(&self, u: &Usage, n: usize, fr: usize) -> i64 {
        let i = self.at(n, fr);
        let v = self.subtree[i].saturating_sub(u.0[i]);
        if self.nodes[n].is_cq { v.max(0) } else { v }
    }

    /// What node `n` can take now for `fr`.
    pub fn available(&self, u: &Usage, n: usize, fr: usize) -> i64 {
        let i = self.at(n, fr);
        let v = match self.nodes[n].parent {
            None => return self.root_available(u, n, fr),
            Some(p) => {
                let local = (self.local[i] - u.0[i]).max(0);
                // A root parent (the usual case, asked on every nomination) is worked out here
                // rather than by a call.
                let mut from_parent = if self.nodes[p].parent.is_none() {
                    self.root_available(u, p, fr)
                } else {
                    self.available(u, p, fr)
                };
                if let Some(bl) = self.quota[i].borrowing_limit {
                    let cap = (self.subtree[i] - self.local[i]) - (u.0[i] - self.local[i]).max(0) + bl;
                    from_parent = from_parent.min(cap);
                }
                local.saturating_add(from_parent)
            }
        };
        if self.nodes[n].is_cq { v.max(0) } else { v }
    }

    /// `available` as first written, recursing into every parent: what `available`, with a root
    /// parent worked out in place, must agree with.
    #[cfg(test)]
    fn available_rec(&self, u: &Usage, n: usize, fr: usize) -> i64 {
        let i = self.at(n, fr);
        let v = match self.nodes[n].parent {
            None => self.subtree[i].saturating_sub(u.0[i]),
            Some(p) => {
                let local = (self.local[i] - u.0[i]).max(0);
                let mut from_parent = self.available_rec(u, p, fr);
                if let Some(bl) = self.quota[i].borrowing_limit {
                    let cap = (self.subtree[i] - self.local[i]) - (u.0[i] - self.local[i]).max(0) + bl;
                    from_parent = from_parent.min(cap);
                }
                local.saturating_add(from_parent)
            }
        };
        if self.nodes[n].is_cq { v.max(0) } else { v }
    }

    /// The most node `n` could ever hold for `fr`.
    pub fn potential(&self, n: usize, fr: usize) -> i64 {
        self.potentials[self.at(n, fr)]
    }

    fn compute_potential(&self, n: usize, fr: usize) -> i64 {
        let i = self.at(n, fr);
        match self.nodes[n].parent {
            None => self.subtree[i],
            Some(p) => {
                let v = self.local[i].saturating_add(self.compute_potential(p, fr));
                match self.quota[i].borrowing_limit {
                    Some(bl) => v.min(self.subtree[i].saturating_add(bl)),
                    None => v,
                }
            }
        }
    }

    /// Whether `n` uses more than its own quota of `fr` (nominal for a CQ, subtree quota for a
    /// cohort).
    pub fn borrowing(&self, u: &Usage, n: usize, fr: usize) -> bool {
        let i = self.at(n, fr);
        u.0[i] > self.subtree[i]
    }

    /// Whether `n` borrows on any fr.
    pub fn borrowing_any(&self, u: &Usage, n: usize) -> bool {
        (0..self.nfr).any(|fr| self.borrowing(u, n, fr))
    }

    /// Height of a node: 0 for a ClusterQueue; for a cohort, 1 above its highest child cohort
    /// (1 if it only has ClusterQueues).
    pub fn height(&self, n: usize) -> u32 {
        self.heights[n]
    }

    fn compute_height(&self, n: usize) -> u32 {
        let node = &self.nodes[n];
        if node.is_cq {
            return 0;
        }
        node.children
            .iter()
            .filter(|&&c| !self.nodes[c].is_cq)
            .map(|&c| self.compute_height(c) + 1)
            .max()
            .unwrap_or(0)
            .max(u32::from(!node.children.is_empty()))
    }

    /// Kueue's "lowest subtree that fits": the height of the lowest node on the queue's path whose
    /// subtree can hold `val` more of `fr` (the queue's own unused private quota, and each
    /// cohort's on the way, taken first), and whether that node is below the root. 0 when the
    /// queue stays within its nominal quota or has no cohort.
    pub fn lowest_fit(&self, u: &Usage, cq: usize, fr: usize, val: i64) -> (u32, bool) {
        let Some(parent) = self.nodes[cq].parent else {
            return (0, false);
        };
        if self.usage(u, cq, fr) + val <= self.subtree_quota(cq, fr) {
            return (0, true);
        }
        let local_free = |n: usize| (self.local_quota(n, fr) - self.usage(u, n, fr)).max(0);
        let mut remaining = val - local_free(cq);
        let mut t = parent;
        loop {
            if self.usage(u, t, fr) + remaining <= self.subtree_quota(t, fr) {
                return (self.height(t), self.nodes[t].parent.is_some());
            }
            remaining -= local_free(t);
            match self.nodes[t].parent {
                Some(p) => t = p,
                None => return (self.height(t), false),
            }
        }
    }

    /// The borrow level of a request: the highest `lowest_fit` height over its frs.
    pub fn borrow_level(&self, u: &Usage, cq: usize, frs: &[(usize, i64)]) -> u32 {
        frs.iter()
            .map(|&(fr, q)| self.lowest_fit(u, cq, fr, q).0)
            .max()
            .unwrap_or(0)
    }

    /// Dominant resource share of node `n` (0 at a root or when not borrowing). `resources[fr]`
    /// names the resource of each fr, so borrowing is summed over flavors per resource.
    pub fn drs(&self, u: &Usage, n: usize, resource_of: &[usize], nres: usize) -> Share {
        let Some(p) = self.nodes[n].parent else {
            return Share::ZERO;
        };
        let mut borrowed = vec![0i64; nres];
        let mut lendable = vec![0i64; nres];
        for fr in 0..self.nfr {
            let i = self.at(n, fr);
            borrowed[resource_of[fr]] += (u.0[i] - self.subtree[i]).max(0);
            lendable[resource_of[fr]] = lendable[resource_of[fr]].saturating_add(self.potential(p, fr));
        }
        if borrowed.iter().all(|&b| b == 0) {
            return Share::ZERO;
        }
        let w = self.nodes[n].weight;
        if self.integer_drs {
            let mut best = 0i64;
            for r in 0..nres {
                if lendable[r] > 0 {
                    best = best.max(1000 * borrowed[r] / lendable[r]);
                }
            }
            let wm = (w * 1000.0).round() as i64;
            if wm == 0 {
                return Share {
                    infinite: true,
                    value: best as f64,
                };
            }
            return Share {
                infinite: false,
                value: (best * 1000 / wm).max(1) as f64,
            };
        }
        let mut ratio = 0.0f64;
        for r in 0..nres {
            if lendable[r] > 0 {
                ratio = ratio.max(1000.0 * borrowed[r] as f64 / lendable[r] as f64);
            }
        }
        if w == 0.0 {
            Share {
                infinite: true,
                value: ratio,
            }
        } else {
            Share {
                infinite: false,
                value: ratio / w,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat cohort `c` over CQs given as (name, [per-fr quota]); nodes 0.. are the CQs, the
    /// cohort is last.
    pub(crate) fn flat(cqs: &[(&str, Vec<Quota>, f64)]) -> Tree {
        let nfr = cqs[0].1.len();
        let c = cqs.len();
        let mut nodes: Vec<Node> = cqs
            .iter()
            .map(|(n, _, w)| Node {
                name: n.to_string(),
                parent: Some(c),
                children: vec![],
                is_cq: true,
                weight: *w,
            })
            .collect();
        nodes.push(Node {
            name: "c".into(),
            parent: None,
            children: (0..c).collect(),
            is_cq: false,
            weight: 1.0,
        });
        let mut quota: Vec<Quota> = cqs.iter().flat_map(|(_, q, _)| q.clone()).collect();
        quota.extend(vec![Quota::default(); nfr]);
        Tree::new(nodes, nfr, quota)
    }

    fn q(nominal: i64) -> Quota {
        Quota {
            nominal,
            ..Quota::default()
        }
    }

    #[test]
    fn flat_cohort_closed_forms() {
        // A: nominal 10, borrowingLimit 4; B: nominal 6. Sum 16.
        let t = flat(&[
            (
                "a",
                vec![Quota {
                    nominal: 10,
                    borrowing_limit: Some(4),
                    lending_limit: None,
                }],
                1.0,
            ),
            ("b", vec![q(6)], 1.0),
        ]);
        let mut u = t.empty_usage();
        assert_eq!(t.subtree_quota(2, 0), 16);
        // A can reach min(10 + 4, 16) = 14; B min(inf, 16) = 16.
        assert_eq!(t.potential(0, 0), 14);
        assert_eq!(t.potential(1, 0), 16);
        t.add(&mut u, 1, 0, 5);
        // A has min(14 - 0, 16 - 5) = 11 available.
        assert_eq!(t.available(&u, 0, 0), 11);
        t.add(&mut u, 0, 0, 11);
        assert_eq!(t.usage(&u, 2, 0), 16);
        assert_eq!(t.available(&u, 0, 0), 0);
        assert_eq!(t.available(&u, 1, 0), 0);
        assert!(t.borrowing(&u, 0, 0));
        assert!(!t.borrowing(&u, 1, 0));
        // Undo: exact.
        t.add(&mut u, 0, 0, -11);
        t.add(&mut u, 1, 0, -5);
        assert_eq!(u, t.empty_usage());
    }

    #[test]
    fn lending_limit_keeps_the_rest_private() {
        // A: nominal 10, lendingLimit 4 (6 private); B: nominal 2.
        let t = flat(&[
            (
                "a",
                vec![Quota {
                    nominal: 10,
                    borrowing_limit: None,
                    lending_limit: Some(4),
                }],
                1.0,
            ),
            ("b", vec![q(2)], 1.0),
        ]);
        let mut u = t.empty_usage();
        assert_eq!(t.local_quota(0, 0), 6);
        assert_eq!(t.subtree_quota(2, 0), 6);
        // B can reach 2 + 4 = 6, never A's private 6.
        assert_eq!(t.potential(1, 0), 6);
        assert_eq!(t.available(&u, 1, 0), 6);
        // A uses 5 of its private 6: nothing reaches the cohort.
        t.add(&mut u, 0, 0, 5);
        assert_eq!(t.usage(&u, 2, 0), 0);
        assert_eq!(t.available(&u, 0, 0), 1 + 6);
        // A uses 8: 2 reach the cohort, B has 4 left.
        t.add(&mut u, 0, 0, 3);
        assert_eq!(t.usage(&u, 2, 0), 2);
        assert_eq!(t.available(&u, 1, 0), 4);
        // A's maximum: private 6 + the cohort's 6.
        assert_eq!(t.potential(0, 0), 12);
    }

    #[test]
    fn hierarchical_cohorts_pool_their_own_quota() {
        // root (nominal 4) > team (nominal 0, borrowingLimit 2) > cq x (nominal 3); root > cq y (nominal 5).
        let nodes = vec![
            Node {
                name: "x".into(),
                parent: Some(2),
                children: vec![],
                is_cq: true,
                weight: 1.0,
            },
            Node {
                name: "y".into(),
                parent: Some(3),
                children: vec![],
                is_cq: true,
                weight: 1.0,
            },
            Node {
                name: "team".into(),
                parent: Some(3),
                children: vec![0],
                is_cq: false,
                weight: 1.0,
            },
            Node {
                name: "root".into(),
                parent: None,
                children: vec![1, 2],
                is_cq: false,
                weight: 1.0,
            },
        ];
        let quota = vec![
            q(3),
            q(5),
            Quota {
                nominal: 0,
                borrowing_limit: Some(2),
                lending_limit: None,
            },
            q(4),
        ];
        let t = Tree::new(nodes, 1, quota);
        assert_eq!(t.subtree_quota(2, 0), 3);
        assert_eq!(t.subtree_quota(3, 0), 12);
        // x can reach its team's 3 plus 2 borrowed from the root.
        assert_eq!(t.potential(0, 0), 5);
        let mut u = t.empty_usage();
        assert_eq!(t.available(&u, 0, 0), 5);
        t.add(&mut u, 1, 0, 9);
        // The root has 12 - 9 = 3 left; x may use them all (3 <= its cap of 5).
        assert_eq!(t.available(&u, 0, 0), 3);
        // 3 more for x: beyond its nominal 3 and its team's 3, it reaches the root (height 2:
        // root > team > x).
        assert_eq!(t.height(2), 1);
        assert_eq!(t.height(3), 2);
        assert_eq!(t.lowest_fit(&u, 0, 0, 3), (0, true));
        assert_eq!(t.lowest_fit(&u, 0, 0, 4), (2, false));
        // x (depth 2) and y (depth 1) meet at the root; x and its team at the team.
        assert_eq!(t.lca(0, 1), Some(3));
        assert_eq!(t.lca(1, 0), Some(3));
        assert_eq!(t.lca(0, 2), Some(2));
        assert_eq!(t.lca(0, 0), Some(0));
    }

    proptest::proptest! {
        /// `available` (with its root parent worked out in place) agrees with the plain
        /// recursion, on a three-level tree with any quotas, limits and usage.
        #[test]
        fn available_agrees_with_the_recursion(
            quotas in proptest::collection::vec(
                (0i64..8, proptest::option::of(0i64..5), proptest::option::of(0i64..5)),
                5,
            ),
            adds in proptest::collection::vec((0usize..3, 0i64..7), 0..12),
        ) {
            // x (0) and z (2) in cohort team (3), under root (4) with y (1).
            let node = |name: &str, parent: Option<usize>, children: Vec<usize>, is_cq: bool| Node {
                name: name.into(),
                parent,
                children,
                is_cq,
                weight: 1.0,
            };
            let nodes = vec![
                node("x", Some(3), vec![], true),
                node("y", Some(4), vec![], true),
                node("z", Some(3), vec![], true),
                node("team", Some(4), vec![0, 2], false),
                node("root", None, vec![1, 3], false),
            ];
            let quota = (quotas.iter())
                .map(|&(nominal, borrowing_limit, lending_limit)| Quota {
                    nominal,
                    borrowing_limit,
                    lending_limit,
                })
                .collect();
            let t = Tree::new(nodes, 1, quota);
            let mut u = t.empty_usage();
            for (cq, q) in adds {
                t.add(&mut u, cq, 0, q);
                for n in 0..5 {
                    proptest::prop_assert_eq!(t.available(&u, n, 0), t.available_rec(&u, n, 0));
                }
            }
        }
    }

    /// kueue.md 6.1: frs are (h100, gpu) and (h100, cpu).
    #[test]
    fn drs_worked_example() {
        let quota = |g, c, ll: Option<i64>| {
            vec![
                Quota {
                    nominal: g,
                    borrowing_limit: None,
                    lending_limit: ll,
                },
                q(c),
            ]
        };
        let mut t = flat(&[
            ("a", quota(8, 64, None), 1.0),
            ("b", quota(8, 64, None), 2.0),
            ("c", quota(16, 128, Some(8)), 1.0),
        ]);
        let mut u = t.empty_usage();
        for (cq, g, c) in [(0, 14, 40), (1, 4, 100), (2, 4, 20)] {
            t.add(&mut u, cq, 0, g);
            t.add(&mut u, cq, 1, c);
        }
        let res = [0usize, 1];
        // Lendable gpu 24 (C's private 8 excluded), cpu 256; cohort gpu usage 18.
        assert_eq!(t.potential(0, 0), 24);
        assert_eq!(t.subtree_quota(3, 1), 256);
        assert_eq!(t.usage(&u, 3, 0), 18);
        assert_eq!(
            t.drs(&u, 0, &res, 2),
            Share {
                infinite: false,
                value: 250.0
            }
        );
        assert_eq!(
            t.drs(&u, 1, &res, 2),
            Share {
                infinite: false,
                value: 70.3125
            }
        );
        assert_eq!(t.drs(&u, 2, &res, 2), Share::ZERO);
        // With 2 gpu + 8 cpu added: A 333.3, B 85.9.
        t.add(&mut u, 0, 0, 2);
        t.add(&mut u, 0, 1, 8);
        assert!((t.drs(&u, 0, &res, 2).value - 1000.0 / 3.0).abs() < 1e-9);
        t.add(&mut u, 0, 0, -2);
        t.add(&mut u, 0, 1, -8);
        t.add(&mut u, 1, 0, 2);
        t.add(&mut u, 1, 1, 8);
        assert_eq!(t.drs(&u, 1, &res, 2).value, 85.9375);
        // Before v0.13: integers. B = floor(1000*44/256) = 171, *1000/2000 = 85.
        t.integer_drs = true;
        assert_eq!(t.drs(&u, 1, &res, 2).value, 85.0);
        // Weight 0 while borrowing: above everyone.
        t.nodes[1].weight = 0.0;
        assert!(t.drs(&u, 1, &res, 2) > t.drs(&u, 0, &res, 2));
    }
}
