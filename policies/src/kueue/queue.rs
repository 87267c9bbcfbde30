//! A ClusterQueue's pending workloads: the heap Kueue pops heads from, and the workloads parked as
//! inadmissible until a flush.
//!
//! With equivalence hashing (BestEffortFIFO, Kueue v0.18+), workloads with the same scheduling hash
//! (priority and request shape) fail and are parked together. They are kept as classes: only the
//! best member of a class sits in the heap, the others wait behind it, and a parked class moves as
//! one. A class keeps its best member apart from the others, so parking or flushing it only flips
//! its state and touches no member set: a class of thousands of identical workloads costs the same
//! as one, which keeps deep queues cheap without changing which workload is tried when.

use super::Key;
use std::collections::BTreeSet;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

/// Class keys are already hashes: use them as they are instead of hashing them again.
#[derive(Default)]
struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Maps keyed by a class hash. No code depends on their iteration order.
type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<KeyIsHash>>;

/// How many workloads a heap holds in a sorted vector before it moves them to a B-tree (fewer
/// in tests, so that they cross the limit).
const SMALL_HEAP: usize = if cfg!(test) { 4 } else { 32 };

/// An ordered set that keeps its first element at hand: the head scan reads it for every
/// ClusterQueue on every cycle, far more often than the set changes. With hashing a heap holds
/// one workload per class, so it is nearly always small: then it is a sorted vector, where
/// taking a head out and putting it back costs less than in a B-tree; past `SMALL_HEAP` it is a
/// B-tree (and stays one until it empties).
#[derive(Clone, Debug, Default)]
struct Heap {
    /// The set while it is small (`large` is then empty).
    small: Vec<Key>,
    /// The set once it grew past `SMALL_HEAP` (`small` is then empty).
    large: BTreeSet<Key>,
    first: Option<Key>,
}

impl Heap {
    fn first(&self) -> Option<Key> {
        debug_assert!(self.small.is_empty() || self.large.is_empty());
        debug_assert_eq!(self.first, self.least());
        self.first
    }
    /// The first element, looked up (what `first` keeps).
    fn least(&self) -> Option<Key> {
        self.small.first().or(self.large.first()).copied()
    }
    fn insert(&mut self, key: Key) {
        if self.large.is_empty() && self.small.len() < SMALL_HEAP {
            if let Err(at) = self.small.binary_search(&key) {
                self.small.insert(at, key);
            }
        } else {
            self.large.extend(self.small.drain(..));
            self.large.insert(key);
        }
        if self.first.is_none_or(|f| key < f) {
            self.first = Some(key);
        }
    }
    fn remove(&mut self, key: &Key) -> bool {
        let removed = if self.large.is_empty() {
            match self.small.binary_search(key) {
                Ok(at) => {
                    self.small.remove(at);
                    true
                }
                Err(_) => false,
            }
        } else {
            self.large.remove(key)
        };
        if removed && self.first == Some(*key) {
            self.first = self.least();
        }
        removed
    }
    fn append(&mut self, other: &mut BTreeSet<Key>) {
        if other.is_empty() {
            return;
        }
        if self.large.is_empty() && self.small.len() + other.len() <= SMALL_HEAP {
            self.small.extend(std::mem::take(other));
            self.small.sort_unstable();
            self.small.dedup();
        } else {
            self.large.extend(self.small.drain(..));
            self.large.append(other);
        }
        self.first = self.least();
    }
    fn contains(&self, key: &Key) -> bool {
        self.small.binary_search(key).is_ok() || self.large.contains(key)
    }
    /// The elements in order.
    fn iter(&self) -> impl Iterator<Item = &Key> {
        self.small.iter().chain(self.large.iter())
    }
    #[cfg(test)]
    fn len(&self) -> usize {
        self.small.len() + self.large.len()
    }
}

/// A class of equivalent workloads: its best member apart, so that the class moves between the
/// heap and the parked state without touching the set of its other members.
#[derive(Clone, Debug)]
struct Class {
    /// The best member: in the heap while the class is active (unless taken out as a head).
    first: Key,
    /// The other members, all after `first`.
    rest: BTreeSet<Key>,
    /// Parked as a whole until a flush.
    parked: bool,
}

impl Class {
    /// A class of one member.
    fn of(key: Key, parked: bool) -> Class {
        Class {
            first: key,
            rest: BTreeSet::new(),
            parked,
        }
    }

    /// Adds a member; returns the member it replaced as the best one, if it did.
    fn insert(&mut self, key: Key) -> Option<Key> {
        if key < self.first {
            let old = std::mem::replace(&mut self.first, key);
            self.rest.insert(old);
            Some(old)
        } else {
            if key != self.first {
                self.rest.insert(key);
            }
            None
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(super) struct Queue {
    hashing: bool,
    /// Workloads without hashing; with hashing, the best member of each active class (one out
    /// as a head included, until it settles).
    heap: Heap,
    /// With hashing: every queued workload, by class.
    classes: HashMap<u64, Class>,
    /// Classes parked since the last flush. May name a class that has since gone or returned:
    /// a flush checks.
    parked_classes: Vec<u64>,
    /// Workloads parked one by one (without hashing).
    parked: BTreeSet<Key>,
    /// A class's best member taken out as a head (see `take_head`), with its class hash: it is
    /// still in the heap, and its class has not promoted its next member yet.
    out: Option<(Key, u64)>,
}

impl Queue {
    pub fn new(hashing: bool) -> Self {
        Queue {
            hashing,
            ..Queue::default()
        }
    }

    /// The next head.
    pub fn head(&mut self) -> Option<Key> {
        self.settle();
        self.heap.first()
    }

    /// The next head, as `head` would read it, without settling a head that is out (for checks
    /// that may not change the queue).
    pub fn peek_head(&self) -> Option<Key> {
        let Some((key, hash)) = self.out else {
            return self.heap.first();
        };
        // As after `settle_out`: the member out leaves the heap, and the next member of its
        // class, if the class is active, enters it.
        let rest = self.heap.iter().find(|&&k| k != key).copied();
        let next = (self.classes.get(&hash))
            .filter(|c| !c.parked)
            .and_then(|c| c.rest.first())
            .copied();
        rest.into_iter().chain(next).min()
    }

    /// Takes a head out, as `remove` does. A head almost always comes straight back (`push`) or is
    /// parked with its class (`park`): a class's best member is only marked out, and stays in the
    /// heap; it leaves the heap, and its class promotes its next member, only if anything else
    /// happens first. The queue reads the same either way.
    pub fn take_head(&mut self, key: Key, hash: u64) -> bool {
        self.settle();
        // An active class's best member is in the heap.
        if self.hashing
            && self
                .classes
                .get(&hash)
                .is_some_and(|c| !c.parked && c.first == key)
        {
            self.out = Some((key, hash));
            return true;
        }
        self.remove(key, hash)
    }

    /// Takes the best member that is out off the heap and promotes its class's next member, if
    /// a member is out.
    #[inline]
    fn settle(&mut self) {
        // Every read of a head goes through here, and nearly always finds nothing out.
        if self.out.is_some() {
            self.settle_out();
        }
    }

    fn settle_out(&mut self) {
        let Some((key, hash)) = self.out.take() else {
            return;
        };
        debug_assert_eq!(self.classes.get(&hash).map(|c| c.first), Some(key));
        self.heap.remove(&key);
        self.promote_next(hash);
    }

    /// The class's best member has left it (and the heap): its next member (if any) takes its
    /// place, in the heap if the class is active.
    fn promote_next(&mut self, hash: u64) {
        let Some(c) = self.classes.get_mut(&hash) else {
            return;
        };
        match c.rest.pop_first() {
            Some(next) => {
                c.first = next;
                if !c.parked {
                    self.heap.insert(next);
                }
            }
            None => {
                self.classes.remove(&hash);
            }
        }
    }

    /// Queues a workload: into the heap, or into its class if that class is parked.
    pub fn push(&mut self, key: Key, hash: u64) {
        if self.out == Some((key, hash)) {
            // The best member comes back before anything else happened: it is still in the heap.
            self.out = None;
            return;
        }
        self.settle();
        if !self.hashing {
            self.heap.insert(key);
            return;
        }
        match self.classes.entry(hash) {
            Entry::Occupied(mut o) => {
                let c = o.get_mut();
                if let Some(old) = c.insert(key)
                    && !c.parked
                {
                    self.heap.remove(&old);
                    self.heap.insert(key);
                }
            }
            Entry::Vacant(v) => {
                v.insert(Class::of(key, false));
                self.heap.insert(key);
            }
        }
    }

    /// Removes a workload wherever it is. Returns whether it was queued.
    pub fn remove(&mut self, key: Key, hash: u64) -> bool {
        self.settle();
        if !self.hashing {
            return self.heap.remove(&key) || self.parked.remove(&key);
        }
        let Some(c) = self.classes.get_mut(&hash) else {
            return false;
        };
        if c.first == key {
            if !c.parked {
                self.heap.remove(&key);
            }
            self.promote_next(hash);
            return true;
        }
        c.rest.remove(&key)
    }

    pub fn contains(&self, key: Key, hash: u64) -> bool {
        if !self.hashing {
            return self.heap.contains(&key) || self.parked.contains(&key);
        }
        self.classes
            .get(&hash)
            .is_some_and(|c| (c.first == key && self.out != Some((key, hash))) || c.rest.contains(&key))
    }

    /// Parks a workload that was taken out as a head; with hashing, its whole class goes too.
    pub fn park(&mut self, key: Key, hash: u64) {
        if !self.hashing {
            self.parked.insert(key);
            return;
        }
        if self.out == Some((key, hash)) {
            // The best member is parked with its class before the class promoted anyone: it
            // leaves the heap, and the class only changes state.
            self.out = None;
            self.heap.remove(&key);
            let c = self.classes.get_mut(&hash).expect("the class of a member out");
            c.parked = true;
            self.parked_classes.push(hash);
            return;
        }
        self.settle();
        match self.classes.entry(hash) {
            Entry::Occupied(mut o) => {
                let c = o.get_mut();
                if !c.parked {
                    self.heap.remove(&c.first);
                    c.parked = true;
                    self.parked_classes.push(hash);
                }
                c.insert(key);
            }
            Entry::Vacant(v) => {
                v.insert(Class::of(key, true));
                self.parked_classes.push(hash);
            }
        }
    }

    /// Everything parked returns to the heap.
    pub fn flush(&mut self) {
        self.settle();
        // A merge in one pass (a swap when the heap is empty, as it is once every head parked).
        self.heap.append(&mut self.parked);
        for hash in self.parked_classes.drain(..) {
            if let Some(c) = self.classes.get_mut(&hash)
                && c.parked
            {
                c.parked = false;
                self.heap.insert(c.first);
            }
        }
    }

    /// Workloads in the heap (counting the other members of active classes).
    #[cfg(test)]
    pub fn active_len(&mut self) -> usize {
        self.settle();
        let behind: usize = (self.classes.values())
            .filter(|c| !c.parked)
            .map(|c| c.rest.len())
            .sum();
        self.heap.len() + behind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairway_engine::{JobId, SimTime};
    use std::cmp::Reverse;
    use std::collections::BTreeMap;

    fn k(prio: i32, job: u32) -> Key {
        Key {
            prio: Reverse(prio),
            ts: SimTime(u64::from(job)),
            job: JobId(job),
        }
    }

    #[test]
    fn classes_park_and_return_as_one() {
        let mut q = Queue::new(true);
        for j in 0..5 {
            q.push(k(0, j), 7);
        }
        q.push(k(1, 9), 8);
        assert_eq!(q.head(), Some(k(1, 9)));
        assert!(q.remove(k(1, 9), 8));
        assert_eq!(q.head(), Some(k(0, 0)));
        // The head of class 7 fails: the whole class is parked.
        assert!(q.remove(k(0, 0), 7));
        assert_eq!(q.head(), Some(k(0, 1)), "the next member was promoted");
        q.park(k(0, 0), 7);
        assert_eq!(q.head(), None);
        // A newcomer of a parked class joins it.
        q.push(k(0, 20), 7);
        assert_eq!(q.head(), None);
        assert!(q.contains(k(0, 20), 7));
        q.flush();
        assert_eq!(q.head(), Some(k(0, 0)));
        assert_eq!(q.active_len(), 6);
        assert!(q.remove(k(0, 3), 7));
        assert_eq!(q.active_len(), 5);
    }

    proptest::proptest! {
        /// A head taken out with `take_head` leaves the queue reading exactly as after `remove`,
        /// whatever follows: it coming back, being parked, or anything else.
        #[test]
        fn taking_a_head_reads_as_removing_it(ops in proptest::collection::vec((0u8..6, 0u32..12), 1..80)) {
            let hash = |j: u32| u64::from(j % 3);
            let prio = |j: u32| (j % 2) as i32;
            let (mut a, mut b) = (Queue::new(true), Queue::new(true));
            // Per job: queued, taken out (may be pushed back or parked), or absent.
            let mut queued = [false; 12];
            let mut out: Option<u32> = None;
            for (op, j) in ops {
                match op {
                    0 if !queued[j as usize] && out != Some(j) => {
                        a.push(k(prio(j), j), hash(j));
                        b.push(k(prio(j), j), hash(j));
                        queued[j as usize] = true;
                    }
                    1 => {
                        let h = a.head();
                        proptest::prop_assert_eq!(h, b.head());
                        if let Some(h) = h {
                            let jh = h.job.0;
                            a.take_head(h, hash(jh));
                            b.remove(h, hash(jh));
                            queued[jh as usize] = false;
                            out = Some(jh);
                        }
                    }
                    5 if queued[j as usize] => {
                        // Any queued workload, as a sticky preemptor is taken: a representative
                        // that is not first, a member behind one, or a parked one.
                        a.take_head(k(prio(j), j), hash(j));
                        b.remove(k(prio(j), j), hash(j));
                        queued[j as usize] = false;
                        out = Some(j);
                    }
                    2 if out.is_some() => {
                        let o = out.take().expect("out");
                        a.park(k(prio(o), o), hash(o));
                        b.park(k(prio(o), o), hash(o));
                        queued[o as usize] = true;
                    }
                    3 if out.is_some() => {
                        let o = out.take().expect("out");
                        a.push(k(prio(o), o), hash(o));
                        b.push(k(prio(o), o), hash(o));
                        queued[o as usize] = true;
                    }
                    4 if queued[j as usize] => {
                        proptest::prop_assert!(a.remove(k(prio(j), j), hash(j)));
                        proptest::prop_assert!(b.remove(k(prio(j), j), hash(j)));
                        queued[j as usize] = false;
                    }
                    4 => {
                        a.flush();
                        b.flush();
                    }
                    _ => {}
                }
                for x in 0..12 {
                    let (key, h) = (k(prio(x), x), hash(x));
                    proptest::prop_assert_eq!(a.contains(key, h), b.contains(key, h));
                    proptest::prop_assert_eq!(a.contains(key, h), queued[x as usize]);
                }
                // On copies: reading the head settles a taken-out head, and the next op must see
                // it still out. Peeking reads the same without settling.
                proptest::prop_assert_eq!(a.clone().head(), b.clone().head());
                proptest::prop_assert_eq!(a.peek_head(), b.clone().head());
                proptest::prop_assert_eq!(a.clone().active_len(), b.clone().active_len());
            }
        }
    }

    /// The plain reading of a queue: every queued workload with whether it is parked. With
    /// hashing a class is parked or active as a whole, and a newcomer joins its class's state.
    #[derive(Default)]
    struct Plain {
        hashing: bool,
        members: BTreeMap<Key, (u64, bool)>,
    }

    impl Plain {
        fn head(&self) -> Option<Key> {
            self.members.iter().find(|(_, (_, p))| !p).map(|(k, _)| *k)
        }
        fn class_parked(&self, hash: u64) -> bool {
            self.hashing && self.members.values().any(|&(h, p)| h == hash && p)
        }
        fn push(&mut self, key: Key, hash: u64) {
            let parked = self.class_parked(hash);
            self.members.insert(key, (hash, parked));
        }
        fn park(&mut self, key: Key, hash: u64) {
            if self.hashing {
                for (h, p) in self.members.values_mut() {
                    *p |= *h == hash;
                }
            }
            self.members.insert(key, (hash, true));
        }
        fn flush(&mut self) {
            for (_, p) in self.members.values_mut() {
                *p = false;
            }
        }
        fn active_len(&self) -> usize {
            self.members.values().filter(|(_, p)| !p).count()
        }
    }

    proptest::proptest! {
        /// The queue reads as the plain model through any sequence of operations, with and
        /// without hashing: same head, same members, same number active.
        #[test]
        fn reads_as_the_plain_model(
            hashing: bool,
            ops in proptest::collection::vec((0u8..6, 0u32..16), 1..120),
        ) {
            let hash = |j: u32| u64::from(j % 4);
            let prio = |j: u32| (j % 3) as i32;
            let mut q = Queue::new(hashing);
            let mut m = Plain { hashing, ..Plain::default() };
            // Taken out as a head (or as a sticky preemptor), not yet back.
            let mut out: Option<u32> = None;
            for (op, j) in ops {
                let (key, h) = (k(prio(j), j), hash(j));
                let queued = m.members.contains_key(&key);
                match op {
                    0 if !queued && out != Some(j) => {
                        q.push(key, h);
                        m.push(key, h);
                    }
                    1 if out.is_none() => {
                        let head = q.head();
                        proptest::prop_assert_eq!(head, m.head());
                        if let Some(hd) = head {
                            proptest::prop_assert!(q.take_head(hd, hash(hd.job.0)));
                            m.members.remove(&hd);
                            out = Some(hd.job.0);
                        }
                    }
                    2 if out.is_none() && queued => {
                        proptest::prop_assert!(q.take_head(key, h));
                        m.members.remove(&key);
                        out = Some(j);
                    }
                    3 => {
                        if let Some(o) = out.take() {
                            let (ko, ho) = (k(prio(o), o), hash(o));
                            if j % 2 == 0 {
                                q.park(ko, ho);
                                m.park(ko, ho);
                            } else {
                                q.push(ko, ho);
                                m.push(ko, ho);
                            }
                        }
                    }
                    4 => {
                        proptest::prop_assert_eq!(q.remove(key, h), queued);
                        m.members.remove(&key);
                    }
                    5 => {
                        q.flush();
                        m.flush();
                    }
                    _ => {}
                }
                for x in 0..16 {
                    let key = k(prio(x), x);
                    proptest::prop_assert_eq!(q.contains(key, hash(x)), m.members.contains_key(&key));
                }
                // On a copy: reading the head settles a taken-out head.
                proptest::prop_assert_eq!(q.clone().head(), m.head());
                proptest::prop_assert_eq!(q.clone().active_len(), m.active_len());
            }
        }
    }

    proptest::proptest! {
        /// The heap reads as a plain ordered set (its first element kept right), through
        /// inserts, removals and merges, small and large.
        #[test]
        fn heap_reads_as_an_ordered_set(ops in proptest::collection::vec((0u8..3, 0u32..10), 1..60)) {
            let mut h = Heap::default();
            let mut plain = BTreeSet::new();
            for (op, j) in ops {
                let key = k((j % 3) as i32, j);
                match op {
                    0 => {
                        h.insert(key);
                        plain.insert(key);
                    }
                    1 => proptest::prop_assert_eq!(h.remove(&key), plain.remove(&key)),
                    _ => {
                        let mut other: BTreeSet<Key> = [key, k(2, j + 10)].into();
                        plain.extend(other.iter().copied());
                        h.append(&mut other);
                    }
                }
                // The field itself, not `first()` (which checks it only in debug builds).
                proptest::prop_assert_eq!(h.first, plain.first().copied());
                proptest::prop_assert_eq!(h.len(), plain.len());
                let all: Vec<Key> = h.small.iter().chain(&h.large).copied().collect();
                proptest::prop_assert_eq!(all, plain.iter().copied().collect::<Vec<_>>());
                for x in 0..20 {
                    let key = k((x % 3) as i32, x);
                    proptest::prop_assert_eq!(h.contains(&key), plain.contains(&key));
                }
            }
        }
    }

    #[test]
    fn without_hashing_workloads_park_one_by_one() {
        let mut q = Queue::new(false);
        q.push(k(0, 1), 7);
        q.push(k(0, 2), 7);
        assert!(q.remove(k(0, 1), 7));
        q.park(k(0, 1), 7);
        assert_eq!(q.head(), Some(k(0, 2)));
        q.flush();
        assert_eq!(q.head(), Some(k(0, 1)));
    }
}
