//! A ClusterQueue's pending workloads: the heap Kueue pops heads from, and the workloads parked as
//! inadmissible until a flush.
//!
//! With equivalence hashing (BestEffortFIFO, Kueue v0.18+), workloads with the same scheduling hash
//! (priority and request shape) fail and are parked together. They are kept as classes: only the
//! best member of a class sits in the heap, the others wait behind it, and a parked class moves as
//! one. Parking or flushing a class of thousands of identical workloads costs the same as one, which
//! keeps deep queues cheap without changing which workload is tried when.

use super::Key;
use std::collections::BTreeSet;
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

#[derive(Clone, Debug, Default)]
pub(super) struct Queue {
    hashing: bool,
    heap: BTreeSet<Key>,
    /// The member of each class that is in the heap.
    rep: HashMap<u64, Key>,
    /// The other members of a class whose representative is in the heap.
    behind: HashMap<u64, BTreeSet<Key>>,
    /// Classes parked as a whole.
    parked_classes: HashMap<u64, BTreeSet<Key>>,
    /// Workloads parked one by one (without hashing).
    parked: BTreeSet<Key>,
    /// A representative taken out as a head (see `take_head`), with its class hash: its class
    /// has not promoted its next member yet.
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
        self.heap.first().copied()
    }

    /// Takes a head out, as `remove` does. A head almost always comes straight back (`push`) or is
    /// parked with its class (`park`): a representative is only marked out, and its class promotes
    /// its next member only if anything else happens first. The queue reads the same either way.
    pub fn take_head(&mut self, key: Key, hash: u64) -> bool {
        self.settle();
        if self.hashing && self.rep.get(&hash) == Some(&key) && self.heap.remove(&key) {
            self.out = Some((key, hash));
            return true;
        }
        self.remove(key, hash)
    }

    /// Promotes the next member of the class whose representative is out, if one is.
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
        debug_assert_eq!(self.rep.get(&hash), Some(&key));
        self.promote_next(hash);
    }

    /// The class's representative has left the heap: its next member (if any) takes its place.
    fn promote_next(&mut self, hash: u64) {
        self.rep.remove(&hash);
        if let Some(b) = self.behind.get_mut(&hash) {
            if let Some(next) = b.pop_first() {
                self.heap.insert(next);
                self.rep.insert(hash, next);
            }
            if b.is_empty() {
                self.behind.remove(&hash);
            }
        }
    }

    /// Queues a workload: into the heap, or into its class if that class is parked.
    pub fn push(&mut self, key: Key, hash: u64) {
        if self.out == Some((key, hash)) {
            // The representative comes back before anything else happened.
            self.out = None;
            self.heap.insert(key);
            return;
        }
        self.settle();
        if !self.hashing {
            self.heap.insert(key);
            return;
        }
        if let Some(p) = self.parked_classes.get_mut(&hash) {
            p.insert(key);
            return;
        }
        match self.rep.get(&hash).copied() {
            Some(r) if key < r => {
                self.heap.remove(&r);
                self.behind.entry(hash).or_default().insert(r);
                self.heap.insert(key);
                self.rep.insert(hash, key);
            }
            Some(_) => {
                self.behind.entry(hash).or_default().insert(key);
            }
            None => {
                self.heap.insert(key);
                self.rep.insert(hash, key);
            }
        }
    }

    /// Removes a workload wherever it is. Returns whether it was queued.
    pub fn remove(&mut self, key: Key, hash: u64) -> bool {
        self.settle();
        if self.heap.remove(&key) {
            if self.rep.get(&hash) == Some(&key) {
                self.promote_next(hash);
            }
            return true;
        }
        if self.parked.remove(&key) {
            return true;
        }
        for map in [&mut self.behind, &mut self.parked_classes] {
            if let Some(set) = map.get_mut(&hash)
                && set.remove(&key)
            {
                if set.is_empty() {
                    map.remove(&hash);
                }
                return true;
            }
        }
        false
    }

    pub fn contains(&self, key: Key, hash: u64) -> bool {
        self.heap.contains(&key)
            || self.parked.contains(&key)
            || self.behind.get(&hash).is_some_and(|s| s.contains(&key))
            || self.parked_classes.get(&hash).is_some_and(|s| s.contains(&key))
    }

    /// Parks a workload that was taken out as a head; with hashing, its whole class goes too.
    pub fn park(&mut self, key: Key, hash: u64) {
        if !self.hashing {
            self.parked.insert(key);
            return;
        }
        if self.out == Some((key, hash)) {
            // The representative is parked with its class before the class promoted anyone: it
            // is in no set, and the class has no representative in the heap.
            self.out = None;
            self.rep.remove(&hash);
        } else {
            self.settle();
        }
        let mut set = self.behind.remove(&hash).unwrap_or_default();
        if let Some(r) = self.rep.remove(&hash) {
            self.heap.remove(&r);
            set.insert(r);
        }
        set.insert(key);
        self.parked_classes.entry(hash).or_default().append(&mut set);
    }

    /// Everything parked returns to the heap.
    pub fn flush(&mut self) {
        self.settle();
        // A merge in one pass (a swap when the heap is empty, as it is once every head parked).
        self.heap.append(&mut self.parked);
        // Drained, not taken: the map keeps its table for the next parking.
        for (hash, mut set) in self.parked_classes.drain() {
            // A parked class has no member in the heap: its best member becomes its representative.
            if let Some(first) = set.pop_first() {
                self.heap.insert(first);
                self.rep.insert(hash, first);
                if !set.is_empty() {
                    self.behind.entry(hash).or_default().append(&mut set);
                }
            }
        }
    }

    /// Workloads in the heap (counting those behind their class's representative).
    #[cfg(test)]
    pub fn active_len(&mut self) -> usize {
        self.settle();
        self.heap.len() + self.behind.values().map(BTreeSet::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairway_engine::{JobId, SimTime};
    use std::cmp::Reverse;

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
                // it still out.
                proptest::prop_assert_eq!(a.clone().head(), b.clone().head());
                proptest::prop_assert_eq!(a.clone().active_len(), b.clone().active_len());
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
