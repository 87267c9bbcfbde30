//! What one pod asks for and what one node offers.

use std::fmt;

/// Milli-GPU in one whole GPU.
pub const GPU_MILLI: u32 = 1000;

/// The request of one pod. All pods of a job are identical.
///
/// GPUs are counted in milli-GPU: a whole-GPU request is a multiple of 1000 and takes that many
/// entire GPUs; a request between 1 and 999 is a share of a single GPU (GPU sharing) and must fit
/// on one physical GPU beside other shares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PodRequest {
    pub gpu_milli: u32,
    pub cpu_milli: u64,
    pub mem_mib: u64,
}

/// How a pod uses GPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuNeed {
    None,
    /// A share of one GPU, in milli-GPU (1..=999).
    Shared(u16),
    /// This many entire GPUs.
    Whole(u32),
}

/// Why a GPU amount is not a valid pod request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidGpuAmount;

impl fmt::Display for InvalidGpuAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pod asks for either a whole number of GPUs or a share of one GPU (0 < x < 1)")
    }
}

impl PodRequest {
    /// Checks the GPU amount is either whole GPUs or a share of one.
    pub fn validate_gpu(gpu_milli: u32) -> Result<(), InvalidGpuAmount> {
        if gpu_milli < GPU_MILLI || gpu_milli.is_multiple_of(GPU_MILLI) {
            Ok(())
        } else {
            Err(InvalidGpuAmount)
        }
    }

    pub fn gpu_need(&self) -> GpuNeed {
        match self.gpu_milli {
            0 => GpuNeed::None,
            g if g < GPU_MILLI => GpuNeed::Shared(g as u16),
            g => GpuNeed::Whole(g / GPU_MILLI),
        }
    }

    /// GPUs as a float, for reports.
    pub fn gpus(&self) -> f64 {
        f64::from(self.gpu_milli) / f64::from(GPU_MILLI)
    }
}

impl fmt::Display for PodRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} GPU, {} CPU, {} GiB",
            fmt_milli(u64::from(self.gpu_milli)),
            fmt_milli(self.cpu_milli),
            fmt_gib(self.mem_mib)
        )
    }
}

/// 1500 -> "1.5", 2000 -> "2".
pub fn fmt_milli(v: u64) -> String {
    let mut s = String::new();
    push_milli(&mut s, v);
    s
}

/// Appends `v` thousandths as [`fmt_milli`] formats them, without allocating (tables of
/// millions of rows are written through this).
pub fn push_milli(out: &mut String, v: u64) {
    let (int, frac) = (v / 1000, v % 1000);
    out.push_str(itoa::Buffer::new().format(int));
    if frac != 0 {
        out.push('.');
        let digits = [frac / 100, frac / 10 % 10, frac % 10];
        let keep = if digits[2] != 0 {
            3
        } else if digits[1] != 0 {
            2
        } else {
            1
        };
        for d in &digits[..keep] {
            out.push(char::from(b'0' + *d as u8));
        }
    }
}

/// MiB as GiB with up to one decimal.
pub fn fmt_gib(mib: u64) -> String {
    if mib.is_multiple_of(1024) {
        format!("{}", mib / 1024)
    } else {
        format!("{:.1}", mib as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousandths_print_without_trailing_zeros() {
        for (v, s) in [
            (0, "0"),
            (1, "0.001"),
            (1010, "1.01"),
            (1500, "1.5"),
            (2000, "2"),
            (123_456, "123.456"),
        ] {
            assert_eq!(fmt_milli(v), s);
        }
        // The plain definition: integer part, then the three decimals without trailing zeros.
        for v in (0..30_000).chain([u64::MAX - 1, u64::MAX, 1_000_000_007]) {
            let plain = format!("{}.{:03}", v / 1000, v % 1000);
            let plain = plain.trim_end_matches('0').trim_end_matches('.');
            assert_eq!(fmt_milli(v), plain, "{v}");
        }
        // Appending keeps what was there, even its zeros.
        let mut out = String::from("10,");
        push_milli(&mut out, 120);
        assert_eq!(out, "10,0.12");
    }
}
