//! The policies and placements of this crate, each with its parameters declared once.

use super::params::{Args, ParamDecl};
use super::{MakePolicy, PlacementEntry, PolicyEntry, RegistryError, Setup, each_run, each_run_placement};
use crate::{
    BackfillOrder, BestFit, Drf, EasyBackfill, EstimateMode, FairShare, Fgd, Fifo, FirstFit, Las,
    PriorityFirst, QueueMode, RandomFit, Replay, Sjf, Spread, Srtf,
};
use std::sync::Arc;

const MODES: &[&str] = &["strict", "best-effort"];
const ESTIMATES: &[&str] = &["oracle", "trace", "team-mean"];

const MODE_STRICT: ParamDecl = ParamDecl::choice(
    "mode",
    MODES,
    "strict",
    "strict stops at the first job that does not fit; best-effort lets later jobs that fit start",
);
const MODE_BEST_EFFORT: ParamDecl = ParamDecl::choice("mode", MODES, "best-effort", "");
const ESTIMATE_ORACLE: ParamDecl = ParamDecl::choice(
    "estimate",
    ESTIMATES,
    "oracle",
    "the true run time, the trace's runtime_estimate (else the team's mean), or the mean of the team's finished jobs",
);

fn mode(a: &Args) -> Result<QueueMode, RegistryError> {
    Ok(match a.choice("mode")? {
        "strict" => QueueMode::Strict,
        _ => QueueMode::BestEffort,
    })
}

fn estimate(a: &Args) -> Result<EstimateMode, RegistryError> {
    Ok(match a.choice("estimate")? {
        "oracle" => EstimateMode::Oracle,
        "trace" => EstimateMode::Trace,
        _ => EstimateMode::TeamMean,
    })
}

/// `1:10` -> [1.0, 10.0]: ascending, positive.
fn thresholds(text: &str) -> Option<Vec<f64>> {
    let v: Vec<f64> = text
        .split(':')
        .map(|x| x.trim().parse::<f64>().ok().filter(|f| *f > 0.0 && f.is_finite()))
        .collect::<Option<_>>()?;
    (!v.is_empty() && v.windows(2).all(|w| w[0] < w[1])).then_some(v)
}

fn thresholds_canon(text: &str) -> Option<String> {
    let v = thresholds(text)?;
    Some(v.iter().map(f64::to_string).collect::<Vec<_>>().join(":"))
}

/// `team-a:2;team-b:1` -> pairs (weight > 0).
fn weights(text: &str) -> Option<Vec<(String, f64)>> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (t, w) = item.rsplit_once(':')?;
            let w: f64 = w.trim().parse().ok()?;
            (w > 0.0 && w.is_finite() && !t.trim().is_empty()).then(|| (t.trim().to_string(), w))
        })
        .collect()
}

fn weights_canon(text: &str) -> Option<String> {
    let v = weights(text)?;
    Some(
        v.iter()
            .map(|(t, w)| format!("{t}:{w}"))
            .collect::<Vec<_>>()
            .join(";"),
    )
}

fn kueue_version_canon(text: &str) -> Option<String> {
    crate::kueue::Version::parse(text).map(|_| text.to_string())
}

/// The policies `Registry::builtin` knows.
pub(super) const POLICIES: &[PolicyEntry] = &[
    PolicyEntry {
        name: "fifo",
        summary: "first come, first served in submit order",
        params: &[MODE_STRICT],
        resolve: |a, _| {
            let m = mode(a)?;
            Ok(each_run(move |_| Fifo::new(m)))
        },
    },
    PolicyEntry {
        name: "priority",
        summary: "highest priority first, then submit order",
        params: &[ParamDecl::choice("mode", MODES, "strict", "")],
        resolve: |a, _| {
            let m = mode(a)?;
            Ok(each_run(move |_| PriorityFirst::new(m)))
        },
    },
    PolicyEntry {
        name: "sjf",
        summary: "shortest job first, on the estimated run time (fixed at submission); not preemptive",
        params: &[ESTIMATE_ORACLE, MODE_BEST_EFFORT],
        resolve: |a, _| {
            let (e, m) = (estimate(a)?, mode(a)?);
            Ok(each_run(move |_| Sjf::new(e, m)))
        },
    },
    PolicyEntry {
        name: "srtf",
        summary: "shortest remaining time first: preempts running jobs with a longer remaining time",
        params: &[ParamDecl::choice("estimate", ESTIMATES, "oracle", "")],
        resolve: |a, _| {
            let e = estimate(a)?;
            Ok(each_run(move |_| Srtf::new(e)))
        },
    },
    PolicyEntry {
        name: "las",
        summary: "Tiresias 2D-LAS: least attained GPU-time first, in discrete queues; preemptive; starving jobs promoted",
        params: &[
            ParamDecl::text(
                "thresholds_gpu_h",
                "ascending GPU-hours > 0 separated by ':' (e.g. 1:10)",
                "queue limits in GPU-hours of attained service",
            )
            .checked(thresholds_canon)
            .default("1:10"),
            ParamDecl::number(
                "promote_after",
                "8",
                "a waiting job whose wait reaches this multiple of its run time returns to the first queue; 0 never",
            ),
        ],
        resolve: |a, _| {
            let t = thresholds(a.text("thresholds_gpu_h")?.unwrap_or_default()).unwrap_or_default();
            let promote = a.number("promote_after")?;
            Ok(each_run(move |_| Las::new(&t, promote)))
        },
    },
    PolicyEntry {
        name: "drf",
        summary: "Dominant Resource Fairness: the team with the smallest dominant share (GPU, CPU or memory) goes next",
        params: &[ParamDecl::choice(
            "mode",
            MODES,
            "best-effort",
            "strict passes a team over when its first job does not fit; best-effort tries its next",
        )],
        resolve: |a, _| {
            let m = mode(a)?;
            Ok(each_run(move |_| Drf::new(m)))
        },
    },
    PolicyEntry {
        name: "fair-share",
        summary: "weighted fair share on decayed GPU usage (Slurm's fair-share factor): the team with the least usage per weight goes next",
        params: &[
            ParamDecl::number("half_life_h", "168", "hours for past usage to count half"),
            ParamDecl::text("weights", "team:weight pairs (weight > 0) separated by ';'", "")
                .checked(weights_canon)
                .unset_means("every team 1")
                .label_when_given(),
            MODE_BEST_EFFORT,
        ],
        resolve: |a, _| {
            let h = a.number("half_life_h")?;
            let w = a.text("weights")?.and_then(weights).unwrap_or_default();
            let m = mode(a)?;
            Ok(each_run(move |_| FairShare::new(h, w.clone(), m)))
        },
    },
    PolicyEntry {
        name: "easy-backfill",
        summary: "EASY backfilling: queue order, a reservation for the blocked head, later jobs start if they do not delay it",
        params: &[
            ParamDecl::choice("order", &["fifo", "priority"], "fifo", ""),
            ParamDecl::choice(
                "estimate",
                &["trace", "oracle", "team-mean"],
                "trace",
                "where run-time estimates come from",
            ),
        ],
        resolve: |a, _| {
            let order = match a.choice("order")? {
                "fifo" => BackfillOrder::Fifo,
                _ => BackfillOrder::Priority,
            };
            let e = estimate(a)?;
            Ok(each_run(move |_| EasyBackfill::new(order, e)))
        },
    },
    PolicyEntry {
        name: "kueue",
        summary: "Kueue's admission (quotas, cohorts, borrowing, preemption, fair sharing) from real manifests",
        params: &[
            ParamDecl::text(
                "manifests",
                "a path to Kueue manifests",
                "a YAML file or a folder of them (a scenario's `manifests` key sets it)",
            )
            .required()
            .label_when_given(),
            ParamDecl::text(
                "kueue_version",
                "a release from 0.8 to 0.19",
                "which release's behaviour to follow",
            )
            .checked(kueue_version_canon)
            .unset_means("0.19")
            .label_when_given(),
            ParamDecl::number(
                "eviction_latency_s",
                "0",
                "seconds a preempted workload keeps its quota and pods",
            )
            .label_when_given(),
            ParamDecl::text("gpu_resource", "a resource name", "the resource name of GPUs in the manifests")
                .default("nvidia.com/gpu")
                .label_when_given(),
            ParamDecl::choice(
                "gpu_unit",
                &["device", "milli"],
                "device",
                "a pod's GPUs count as whole devices, rounded up (as Kueue counts nvidia.com/gpu), or in milli-GPU (for a shared-GPU resource)",
            )
            .label_when_given(),
            ParamDecl::choice(
                "unknown_queue",
                &["error", "reject"],
                "error",
                "a job whose queue the manifests lack fails the run, or is rejected",
            )
            .label_when_given(),
        ],
        resolve: kueue,
    },
    PolicyEntry {
        name: "replay",
        summary: "starts every job at the start time the trace recorded (for accounting checks)",
        params: &[],
        resolve: |_, _| Ok(each_run(|_| Replay::default())),
    },
];

/// Reads and checks the manifests once; every run builds its Kueue from the same checked
/// configuration.
fn kueue(a: &Args, setup: &Setup) -> Result<MakePolicy, RegistryError> {
    use crate::kueue::{Kueue, Options, Version, manifest};
    let path = a.text("manifests")?.unwrap_or_default();
    let version = match a.text("kueue_version")? {
        None => Version::NEWEST,
        Some(t) => Version::parse(t).unwrap_or(Version::NEWEST),
    };
    let latency = a.number("eviction_latency_s")?;
    let gpu = a.text("gpu_resource")?.unwrap_or("nvidia.com/gpu");
    let files = manifest::files(std::path::Path::new(path)).map_err(|e| RegistryError::Setup(Box::new(e)))?;
    let (mut cfg, objects) =
        manifest::load_with_objects(&files, gpu).map_err(|e| RegistryError::Setup(Box::new(e)))?;
    for w in &cfg.warnings {
        setup.warn(w.clone());
    }
    crate::kueue::edit::apply(&mut cfg, &setup.kueue_edits)?;
    // The manifests as every run uses them, to review or apply, and what the what-ifs changed.
    let eff = crate::kueue::effective::effective(&objects, &setup.kueue_edits)
        .map_err(|e| RegistryError::Setup(e.into()))?;
    setup.output("kueue/manifests.yaml", eff.yaml);
    setup.output("kueue/manifests.diff", eff.diff);
    let opts = Options {
        version,
        eviction_latency: fairway_engine::SimDuration((latency * 1000.0).round() as u64),
        reject_unknown_queues: a.choice("unknown_queue")? == "reject",
        gpu_milli: a.choice("gpu_unit")? == "milli",
    };
    // Checked here, so that a wrong configuration fails before any run.
    Kueue::new(cfg.clone(), opts.clone()).map_err(|e| RegistryError::Setup(Box::new(e)))?;
    Ok(Arc::new(move |_| {
        let k = Kueue::new(cfg.clone(), opts.clone()).map_err(|e| RegistryError::Setup(Box::new(e)))?;
        Ok(Box::new(k) as Box<dyn fairway_engine::Policy>)
    }))
}

/// The placements `Registry::builtin` knows.
pub(super) const PLACEMENTS: &[PlacementEntry] = &[
    PlacementEntry {
        name: "first-fit",
        aliases: &[],
        summary: "the lowest-numbered nodes that fit",
        params: &[],
        resolve: |_| Ok(each_run_placement(|_| FirstFit)),
    },
    PlacementEntry {
        name: "best-fit",
        aliases: &[],
        summary: "the fullest nodes that fit (fewest free GPUs, then CPU, then memory): packs",
        params: &[],
        resolve: |_| Ok(each_run_placement(|_| BestFit::default())),
    },
    PlacementEntry {
        name: "spread",
        // Worst-fit is the textbook name for the same rule.
        aliases: &["worst-fit"],
        summary: "worst-fit (also accepted as `worst-fit`): the emptiest nodes first, one pod per node in turn",
        params: &[],
        resolve: |_| Ok(each_run_placement(|_| Spread::default())),
    },
    PlacementEntry {
        name: "random",
        aliases: &[],
        summary: "a random node that fits for each pod (seeded by the scenario's seed)",
        params: &[],
        resolve: |_| Ok(each_run_placement(RandomFit::new)),
    },
    PlacementEntry {
        name: "fgd",
        aliases: &[],
        summary: "fragmentation gradient descent (Weng et al., ATC '23): the node and GPU where expected fragmentation grows least",
        params: &[],
        resolve: |_| Ok(each_run_placement(|_| Fgd::default())),
    },
];
