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
    if v.is_multiple_of(1000) {
        format!("{}", v / 1000)
    } else {
        let s = format!("{}.{:03}", v / 1000, v % 1000);
        s.trim_end_matches('0').to_string()
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
