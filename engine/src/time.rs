//! Simulated time: integer milliseconds, never floats, so that runs are exactly reproducible.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Add, Sub};

/// An instant of simulated time, in milliseconds since the trace origin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

/// The largest instant or span the engine accepts as input, in milliseconds: 2^53 ms, about
/// 285,000 years, and still exact in an f64. Inputs within it keep every sum a run forms (a
/// submit time plus a patience, a start plus a run at the slowest speed) far inside `u64`;
/// readers refuse larger values and [`Simulation::new`](crate::Simulation::new) checks them.
pub const MAX_MILLIS: u64 = 1 << 53;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_secs(s: u64) -> Self {
        SimTime(s * 1000)
    }
    pub const fn millis(self) -> u64 {
        self.0
    }
    /// Seconds as a float, for reports only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
    /// Time elapsed since `earlier`, saturating at zero.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// `self + d`, or `None` past the last instant a `SimTime` holds.
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(t) => Some(SimTime(t)),
            None => None,
        }
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * 1000)
    }
    pub const fn millis(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

/// Converts a non-negative number of seconds (possibly fractional) to milliseconds,
/// rounding to the nearest millisecond. `None` for negative or non-finite input, or past
/// [`MAX_MILLIS`].
pub fn secs_to_millis(secs: f64) -> Option<u64> {
    round_millis(secs * 1000.0)
}

/// A computed number of milliseconds (a time scaled by a factor, say), rounded to the nearest
/// one. `None` for negative or non-finite input, or past [`MAX_MILLIS`]: a cast would saturate
/// silently instead.
pub fn round_millis(ms: f64) -> Option<u64> {
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    let ms = ms.round();
    (ms <= MAX_MILLIS as f64).then_some(ms as u64)
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.since(earlier)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_secs(f, self.0)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_secs(f, self.0)
    }
}

/// Writes milliseconds as seconds with no trailing zeros: 1500 -> "1.5s", 2000 -> "2s".
fn write_secs(f: &mut fmt::Formatter<'_>, ms: u64) -> fmt::Result {
    let (s, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        write!(f, "{s}s")
    } else {
        let digits = format!("{frac:03}");
        write!(f, "{s}.{}s", digits.trim_end_matches('0'))
    }
}

/// A time value counted in milliseconds, which [`Opt`] packs.
pub trait Millis: Copy {
    fn to_millis(self) -> u64;
    fn from_millis(ms: u64) -> Self;
}

impl Millis for SimTime {
    fn to_millis(self) -> u64 {
        self.0
    }
    fn from_millis(ms: u64) -> Self {
        SimTime(ms)
    }
}

impl Millis for SimDuration {
    fn to_millis(self) -> u64 {
        self.0
    }
    fn from_millis(ms: u64) -> Self {
        SimDuration(ms)
    }
}

/// An optional time value in 8 bytes, where `Option` takes 16: `u64::MAX` milliseconds stands
/// for none (so `SimTime::MAX` reads back as none). Records held per job on traces of millions
/// carry several.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Opt<T>(u64, PhantomData<T>);

/// An instant that may be absent.
pub type OptTime = Opt<SimTime>;
/// A span that may be absent.
pub type OptDuration = Opt<SimDuration>;

impl<T: Millis> Opt<T> {
    pub const NONE: Opt<T> = Opt(u64::MAX, PhantomData);

    pub fn get(self) -> Option<T> {
        (self.0 != u64::MAX).then(|| T::from_millis(self.0))
    }
    pub fn is_some(self) -> bool {
        self.0 != u64::MAX
    }
    pub fn is_none(self) -> bool {
        self.0 == u64::MAX
    }
    pub fn set(&mut self, v: T) {
        self.0 = v.to_millis();
    }
    /// Sets the value unless it is already set.
    pub fn set_once(&mut self, v: T) {
        if self.is_none() {
            self.set(v);
        }
    }
}

impl<T: Millis> Default for Opt<T> {
    fn default() -> Self {
        Opt::NONE
    }
}

impl<T: Millis> From<Option<T>> for Opt<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Opt::NONE, Opt::from)
    }
}

impl<T: Millis> From<T> for Opt<T> {
    fn from(v: T) -> Self {
        Opt(v.to_millis(), PhantomData)
    }
}

impl<T: Millis + fmt::Debug> fmt::Debug for Opt<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

/// Seconds in the unit a person reads best: 42s, 3.5m, 2.1h, 4.0d.
pub fn human_secs(s: f64) -> String {
    match in_human_unit(s) {
        (v, "s") => format!("{v:.0}s"),
        (v, unit) => format!("{v:.1}{unit}"),
    }
}

/// Seconds as an amount of the unit a person reads best (s below a minute, then m, h, d) and
/// that unit's letter.
pub fn in_human_unit(s: f64) -> (f64, &'static str) {
    if s < 60.0 {
        (s, "s")
    } else if s < 3600.0 {
        (s / 60.0, "m")
    } else if s < 86_400.0 {
        (s / 3600.0, "h")
    } else {
        (s / 86_400.0, "d")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_to_millis() {
        assert_eq!(secs_to_millis(1.5), Some(1500));
        assert_eq!(secs_to_millis(0.0004), Some(0));
        assert_eq!(secs_to_millis(0.0006), Some(1));
        assert_eq!(secs_to_millis(-1.0), None);
        assert_eq!(secs_to_millis(f64::NAN), None);
        assert_eq!(secs_to_millis(f64::INFINITY), None);
        assert_eq!(secs_to_millis(1e300), None);
        assert_eq!(secs_to_millis(9e12), Some(9_000_000_000_000_000));
        assert_eq!(secs_to_millis(1e13), None);
        assert_eq!(round_millis(2.5), Some(3));
        assert_eq!(round_millis(-0.1), None);
        assert_eq!(
            SimTime(u64::MAX - 1).checked_add(SimDuration(1)),
            Some(SimTime::MAX)
        );
        assert_eq!(SimTime::MAX.checked_add(SimDuration(1)), None);
    }

    #[test]
    fn display_is_compact() {
        assert_eq!(SimTime(1500).to_string(), "1.5s");
        assert_eq!(SimTime(2000).to_string(), "2s");
        assert_eq!(SimDuration(1).to_string(), "0.001s");
    }

    #[test]
    fn an_optional_time_packs_into_eight_bytes_and_reads_back() {
        assert_eq!(std::mem::size_of::<OptTime>(), 8);
        assert_eq!(OptTime::NONE.get(), None);
        assert_eq!(OptTime::default(), OptTime::NONE);
        assert_eq!(
            OptDuration::from(Some(SimDuration(0))).get(),
            Some(SimDuration(0))
        );
        assert_eq!(OptTime::from(None).get(), None);
        let mut t = OptTime::from(SimTime(7));
        t.set_once(SimTime(9));
        assert_eq!(t.get(), Some(SimTime(7)));
        t.set(SimTime(9));
        assert_eq!(format!("{t:?}"), "Some(SimTime(9))");
        // The one value it cannot hold: the largest instant reads back as none.
        assert!(OptTime::from(SimTime::MAX).is_none());
    }
}
