//! Job names, packed: one text buffer and one end offset per name. A trace of millions of jobs
//! pays about 8 bytes plus the name itself per job, against 24 bytes and a heap block (32 bytes
//! or more) for a `String` each.

use std::fmt;
use std::ops::Index;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Names {
    text: String,
    ends: Vec<u64>,
}

impl Names {
    pub fn new() -> Names {
        Names::default()
    }
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    pub fn push(&mut self, name: &str) {
        self.text.push_str(name);
        self.ends.push(self.text.len() as u64);
    }
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| &self[i])
    }
    /// The names in the order `order` gives (`order[k]` is the index of the k-th).
    pub fn reordered(&self, order: impl IntoIterator<Item = usize>) -> Names {
        order.into_iter().map(|i| &self[i]).collect()
    }
}

impl Index<usize> for Names {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        self.get(i).expect("a job name index within the workload")
    }
}

impl<S: AsRef<str>> FromIterator<S> for Names {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Names {
        let mut n = Names::new();
        for s in iter {
            n.push(s.as_ref());
        }
        n
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Names {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Names {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Names {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pack_and_index_back() {
        let mut n = Names::new();
        for s in ["a", "", "job-17", "é"] {
            n.push(s);
        }
        assert_eq!(n.len(), 4);
        assert_eq!((&n[0], &n[1], &n[2], &n[3]), ("a", "", "job-17", "é"));
        assert_eq!(n.get(4), None);
        assert_eq!(n, ["a", "", "job-17", "é"]);
        assert_eq!(n.reordered([2, 0]), ["job-17", "a"]);
        assert_eq!(format!("{n:?}"), r#"["a", "", "job-17", "é"]"#);
    }
}
