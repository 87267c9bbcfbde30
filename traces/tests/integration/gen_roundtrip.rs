//! What the generator makes, written in the canonical format, reads back as the same jobs: for
//! any settings it accepts, however extreme, or it refuses them with an error naming the setting.

use fairway_engine::{JobSpec, TeamId, Workload};
use fairway_traces::synthetic::{Arrivals, Durations, InteractiveSpec, Shape, SyntheticSpec, TeamShare};
use fairway_traces::{TraceError, TraceFormat};
use proptest::prelude::*;
use std::path::Path;

/// A number spread evenly over orders of magnitude, from 10^lo to 10^hi.
fn magnitude(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo..hi).prop_map(|e| 10f64.powf(e))
}

fn arrivals() -> impl Strategy<Value = Arrivals> {
    prop_oneof![
        magnitude(-12.0, 12.0).prop_map(|per_hour| Arrivals::Poisson { per_hour }),
        (magnitude(-6.0, 6.0), magnitude(0.0, 6.0), 0.0..24.0).prop_map(
            |(per_hour, peak_to_trough, peak_hour)| Arrivals::Daily {
                per_hour,
                peak_to_trough,
                peak_hour,
            }
        ),
    ]
}

fn durations() -> impl Strategy<Value = Durations> {
    prop_oneof![
        (
            magnitude(-3.0, 12.0),
            0.0..8.0,
            proptest::option::of(magnitude(0.0, 13.0))
        )
            .prop_map(|(median_s, sigma, max_s)| Durations::Lognormal {
                median_s,
                sigma,
                max_s,
            }),
        magnitude(-6.0, 12.0).prop_map(|scale| Durations::Resample {
            path: "runtimes.csv".into(),
            scale,
        }),
    ]
}

/// GPUs per pod: none, a share to the milli-GPU, or whole GPUs.
fn gpus() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        (1..1000u32).prop_map(|m| f64::from(m) / 1000.0),
        (1..=64u32).prop_map(f64::from),
    ]
}

fn shapes() -> impl Strategy<Value = Vec<Shape>> {
    proptest::collection::vec(
        (gpus(), 1..8u32, 0.0..10.0).prop_map(|(gpus, pods, weight)| Shape { gpus, pods, weight }),
        1..4,
    )
    .prop_map(|mut v| {
        v[0].weight += 1.0;
        v
    })
}

/// Team names with what a CSV file must quote (commas, quotes, line breaks) and inner spaces.
fn teams() -> impl Strategy<Value = Vec<TeamShare>> {
    proptest::collection::vec(
        ("[a-z][a-z ,\"\n]{0,6}[a-z]", 0.0..5.0, any::<i32>()).prop_map(|(name, weight, priority)| {
            TeamShare {
                name,
                weight,
                priority,
            }
        }),
        1..6,
    )
    .prop_map(|mut v| {
        v[0].weight += 0.5;
        v
    })
}

fn interactive() -> impl Strategy<Value = InteractiveSpec> {
    (
        magnitude(-3.0, 3.0),
        0.0..12.0,
        12.5..24.0,
        any::<bool>(),
        prop_oneof![
            (1..1000u32).prop_map(|m| f64::from(m) / 1000.0),
            (1..=8u32).prop_map(f64::from)
        ],
        (magnitude(0.0, 6.0), 0.0..3.0, 0.0..=1.0, any::<i32>()),
    )
        .prop_map(
            |(per_hour, start_hour, end_hour, weekdays_only, gpus, (median_s, sigma, gpu_util, priority))| {
                InteractiveSpec {
                    per_hour,
                    start_hour,
                    end_hour,
                    weekdays_only,
                    gpus,
                    median_s,
                    sigma,
                    gpu_util,
                    priority,
                }
            },
        )
}

prop_compose! {
    fn spec()(
        jobs in 1..200usize,
        arrivals in arrivals(),
        duration in durations(),
        shapes in shapes(),
        teams in teams(),
        cpu_per_gpu in magnitude(-3.0, 12.0),
        memory_gib_per_gpu in magnitude(-3.0, 12.0),
        interactive_fraction in 0.0..=1.0,
        interactive in proptest::option::of(interactive()),
    ) -> SyntheticSpec {
        let mut s = SyntheticSpec::with_jobs(jobs);
        // Sessions are drawn day by day up to the last batch arrival: keep that span to years.
        let arrivals = match arrivals {
            Arrivals::Poisson { per_hour } if interactive.is_some() => Arrivals::Poisson { per_hour: per_hour.max(0.1) },
            Arrivals::Daily { per_hour, peak_to_trough, peak_hour } if interactive.is_some() => {
                Arrivals::Daily { per_hour: per_hour.max(0.1), peak_to_trough, peak_hour }
            }
            a => a,
        };
        s.arrivals = arrivals;
        s.duration = duration;
        s.shapes = shapes;
        s.teams = teams;
        s.cpu_per_gpu = cpu_per_gpu;
        s.memory_gib_per_gpu = memory_gib_per_gpu;
        s.interactive_fraction = interactive_fraction;
        s.interactive = interactive;
        s
    }
}

/// A job as the trace states it: its team by name, since a reader numbers teams in the order
/// it meets them and knows only those with jobs.
fn jobs(w: &Workload) -> Vec<(String, String, JobSpec)> {
    (w.jobs.iter().enumerate())
        .map(|(i, j)| {
            let mut spec = j.clone();
            spec.team = TeamId(0);
            (w.names[i].to_string(), w.teams[j.team.index()].clone(), spec)
        })
        .collect()
}

/// Generates, writes, reads back and compares; `Err` is a refusal of the settings.
fn round_trip(spec: &SyntheticSpec, seed: u64, dir: &Path) -> Result<(), TraceError> {
    let generated = fairway_traces::synthetic::generate_with(spec, seed, dir, 5_000)?;
    let path = dir.join("gen.csv");
    fairway_traces::write::canonical(&generated, std::fs::File::create(&path).unwrap()).unwrap();
    let read = match fairway_traces::read(&path, TraceFormat::Canonical) {
        Ok(l) => l.workload,
        Err(e) => panic!("the generated trace is refused: {e}\nsettings: {spec:?}"),
    };
    let (a, b) = (jobs(&generated), jobs(&read));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "settings: {spec:?}");
    }
    let mut used: Vec<&String> = a.iter().map(|(_, t, _)| t).collect();
    used.sort();
    used.dedup();
    let mut teams: Vec<&String> = read.teams.iter().collect();
    teams.sort();
    assert_eq!(teams, used);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_generated_trace_reads_back_as_the_same_jobs(
        spec in spec(),
        seed in any::<u64>(),
        runtimes in proptest::collection::vec(magnitude(-3.0, 7.0), 1..20),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let text: String = runtimes.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(dir.path().join("runtimes.csv"), text).unwrap();
        if let Err(e) = round_trip(&spec, seed, dir.path()) {
            // A refusal names the generator's setting.
            prop_assert!(matches!(e, TraceError::Config { .. }), "{e}");
            prop_assert!(e.to_string().starts_with("synthetic trace"), "{e}");
        }
    }
}

/// The settings that once made traces the reader refused or read differently, each now refused
/// with the setting named, or written exactly.
#[test]
fn settings_that_made_unreadable_traces() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |spec: &SyntheticSpec| round_trip(spec, 1, dir.path()).unwrap_err().to_string();

    // Arrivals so rare that submit times pass what a trace may hold.
    let mut s = SyntheticSpec::with_jobs(3);
    s.arrivals = Arrivals::Poisson { per_hour: 1e-300 };
    let e = refused(&s);
    assert!(
        e.starts_with("synthetic trace: arrivals.per_hour: job 0 would arrive at"),
        "{e}"
    );
    s.arrivals = Arrivals::Daily {
        per_hour: 1e-300,
        peak_to_trough: 2.0,
        peak_hour: 12.0,
    };
    assert!(refused(&s).starts_with("synthetic trace: arrivals.per_hour"));

    // Run times past the limit, drawn or resampled.
    let mut s = SyntheticSpec::with_jobs(50);
    s.duration = Durations::Lognormal {
        median_s: 1e15,
        sigma: 0.0,
        max_s: None,
    };
    assert!(refused(&s).starts_with("synthetic trace: duration.median_s: 1e15 s is past"));
    s.duration = Durations::Lognormal {
        median_s: 1e12,
        sigma: 5.0,
        max_s: None,
    };
    assert!(refused(&s).starts_with("synthetic trace: duration.max_s: job"));
    std::fs::write(dir.path().join("r.csv"), "100\n").unwrap();
    s.duration = Durations::Resample {
        path: "r.csv".into(),
        scale: 1e300,
    };
    assert!(refused(&s).starts_with("synthetic trace: duration.scale: job 0 would run"));

    // Pods asking for more CPU or memory than a row may hold.
    let mut s = SyntheticSpec::with_jobs(3);
    s.cpu_per_gpu = 1e12;
    assert!(refused(&s).starts_with("synthetic trace: cpu_per_gpu: 1000000000000 makes a pod of 8 GPUs"));
    let mut s = SyntheticSpec::with_jobs(3);
    s.memory_gib_per_gpu = 1e300;
    assert!(refused(&s).starts_with("synthetic trace: memory_gib_per_gpu:"));

    // A team name the reader would trim.
    let mut s = SyntheticSpec::with_jobs(3);
    s.teams[0].name = " a".into();
    assert_eq!(
        refused(&s),
        "synthetic trace: teams[0].name: must not start or end with spaces, found ' a'"
    );

    // A session share finer than the milli-GPU.
    let mut s = SyntheticSpec::with_jobs(3);
    s.interactive = Some(toml::from_str("per_hour = 1.0\ngpus = 0.0001").unwrap());
    assert!(
        refused(&s)
            .starts_with("synthetic trace: interactive.gpus: must be a share below 1 to the milli-GPU")
    );

    // Sessions past the limit on jobs.
    let mut s = SyntheticSpec::with_jobs(100);
    s.arrivals = Arrivals::Poisson { per_hour: 0.1 };
    s.interactive = Some(toml::from_str("per_hour = 1000.0").unwrap());
    assert_eq!(
        refused(&s),
        "synthetic trace: interactive.per_hour: the sessions and the 100 batch jobs would be more than 5000 jobs"
    );

    // Memory of a third of a GiB per GPU: written to the MiB, not rounded to a thousandth.
    let mut s = SyntheticSpec::with_jobs(20);
    s.memory_gib_per_gpu = 1.0 / 3.0;
    round_trip(&s, 1, dir.path()).unwrap();
}
