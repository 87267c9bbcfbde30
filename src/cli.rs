//! Command-line parsing and the subcommands: parse, resolve, call the crates, print.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use fairway_engine::resources::fmt_milli;
use fairway_reports::render::RenderOptions;
use fairway_reports::{RunInfo, human_secs};
use fairway_scenarios::Scenario;
use fairway_traces::{SyntheticSpec, TraceFormat};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "fairway",
    version,
    about = "Replay GPU job traces against scheduling policies on a modelled cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario: simulate, print a summary, write the tables (CSV and Parquet), charts,
    /// report.html and metrics.prom into the output folder.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output folder [default: runs/<scenario name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Use this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
        /// Also write every chart as PNG.
        #[arg(long)]
        png: bool,
        /// Write the summary and tables only; skip the charts, report.html, metrics.prom,
        /// teams.csv and rightsizing.csv (render them later with `fairway report`). The report
        /// reads the tables back a row group at a time and needs about 100 bytes a job.
        #[arg(long, conflicts_with = "png")]
        no_report: bool,
        /// Write into the output folder even if it is not empty and holds no earlier output.
        #[arg(long)]
        force: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Re-render a run's charts, report.html, metrics.prom, teams.csv and rightsizing.csv from
    /// its Parquet tables; with --compare, one page comparing several runs.
    Report {
        /// Run output folders (one, or several with --compare).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Compare the runs side by side (deltas against the first): write compare.html and
        /// compare.md, and print the Markdown.
        #[arg(long)]
        compare: bool,
        /// Where --compare writes [default: runs/compare].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write every chart as PNG.
        #[arg(long)]
        png: bool,
    },
    /// Check a scenario without running it: files, names, parameters, jobs that can never fit.
    Validate { scenario: PathBuf },
    /// Inspect trace files.
    Trace {
        #[command(subcommand)]
        command: TraceCommand,
    },
    /// Write a synthetic trace in the canonical CSV format.
    Gen {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Generator settings, as in a scenario's [trace.synthetic] table.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Number of jobs (overrides the spec) [default: 1000].
        #[arg(long)]
        jobs: Option<usize>,
        /// Mean arrivals per hour, Poisson (overrides the spec).
        #[arg(long)]
        per_hour: Option<f64>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// List the policies and placements, with their parameters.
    List,
    /// Run every point of a sweep (a scenario with a [sweep] section) in parallel; write a folder
    /// per run and sweep.csv. `fairway sweep merge DIR... --out DIR` combines shards.
    #[command(args_conflicts_with_subcommands = true)]
    Sweep {
        #[command(subcommand)]
        merge: Option<SweepCommand>,
        /// The sweep file.
        file: Option<PathBuf>,
        /// Output folder [default: runs/<scenario name>-sweep].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs at once (each simulation is single-threaded) [default: the machine's cores].
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only shard I of N (the runs whose number is I modulo N), e.g. 0/4.
        #[arg(long)]
        shard: Option<String>,
        /// Skip runs whose folder is complete (from an interrupted sweep).
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        chart: SweepChartArgs,
        /// Write into the output folder even if it is not empty and holds no earlier output.
        #[arg(long)]
        force: bool,
        #[arg(long, short)]
        quiet: bool,
    },
    /// Capacity planning: the fewest nodes to add to a pool so that every target holds.
    Plan {
        /// The scenario (its cluster is the starting point).
        file: PathBuf,
        /// A target: METRIC<=VALUE or METRIC>=VALUE (units s, m, h, d, %), optionally
        /// team:NAME:METRIC<=VALUE, e.g. p95_wait<=2h. Repeat for several.
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// What to vary: pool.NAME.nodes=A..B, nodes added to pool NAME, from A to B. Repeat to
        /// vary several pools: the cheapest combination wins (see --cost).
        #[arg(long, required = true)]
        vary: Vec<String>,
        /// Price of one node of a pool, pool.NAME=PRICE (default 1 each); with several --vary,
        /// the answer is the cheapest combination meeting every target.
        #[arg(long)]
        cost: Vec<String>,
        /// Seeds per point (the scenario's seed and the next ones); a target must hold with a
        /// margin of twice the standard error.
        #[arg(long, default_value_t = 1)]
        seeds: u64,
        /// Also write plan.csv (the marginal-value curve) and a chart of it per target
        /// (plan-1.svg, ...) into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The CI gate: compare a candidate with a baseline; exit 0 if every check holds, 1 if any
    /// regressed, 2 on error. Prints a Markdown summary.
    Compare {
        /// A run's output folder (its summary.json) or a scenario file to run.
        baseline: PathBuf,
        /// Same, for the candidate.
        candidate: PathBuf,
        /// A check METRIC:+AMOUNT or METRIC:-AMOUNT (units %, pp, s, m, h, or none): the sign is
        /// the direction that is a regression, e.g. p95_wait:+5% or gpu_allocation_rate:-2pp.
        #[arg(long = "fail-on", required = true)]
        fail_on: Vec<String>,
        /// Also apply every check to every team both sides have.
        #[arg(long)]
        per_team: bool,
        /// Seeds a scenario side runs with (its seed and the next ones); means are compared, and
        /// a change within twice the standard error of the difference is not a regression.
        #[arg(long, default_value_t = 1)]
        seeds: u64,
        /// Also write the checks as JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Combine the sweep.csv of shards into one (and its sweep.parquet and chart), as a single
    /// run of the sweep writes them.
    Merge {
        dirs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        chart: SweepChartArgs,
    },
}

/// What the sweep chart (charts/sweep.svg) plots.
#[derive(clap::Args)]
struct SweepChartArgs {
    /// The metric on the y axis (a name `fairway compare` knows) [default: p95_wait].
    #[arg(long)]
    chart_metric: Option<String>,
    /// The swept key on the x axis [default: the first numeric swept key].
    #[arg(long)]
    chart_x: Option<String>,
}

impl SweepChartArgs {
    fn metric(&self) -> &str {
        self.chart_metric.as_deref().unwrap_or("p95_wait")
    }
    /// Whether the user chose what to plot, so that a chart that cannot be drawn is an error.
    fn chosen(&self) -> bool {
        self.chart_metric.is_some() || self.chart_x.is_some()
    }
}

#[derive(Subcommand)]
enum TraceCommand {
    /// Rows, span, GPU demand and duration percentiles of a trace file.
    Stats {
        file: PathBuf,
        /// The file's format [default: guessed from the header].
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Canonical,
    Openb,
}

pub fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            png,
            no_report,
            force,
            quiet,
        } => {
            let render = (!no_report).then_some(RenderOptions { png });
            run(&scenario, out, seed, render, force, quiet)
        }
        Command::Report {
            dirs,
            compare,
            out,
            png,
        } => report(&dirs, compare, out, png),
        Command::Validate { scenario } => validate(&scenario),
        Command::Trace {
            command: TraceCommand::Stats { file, format },
        } => trace_stats(&file, format),
        Command::Gen {
            out,
            spec,
            jobs,
            per_hour,
            seed,
        } => generate(&out, spec.as_deref(), jobs, per_hour, seed),
        Command::List => list(),
        Command::Sweep {
            merge: Some(SweepCommand::Merge { dirs, out, chart }),
            ..
        } => sweep_merge(&dirs, &out, &chart),
        Command::Sweep {
            merge: None,
            file,
            out,
            jobs,
            shard,
            resume,
            chart,
            force,
            quiet,
        } => {
            let file = file.ok_or_else(|| anyhow::anyhow!("sweep needs a sweep file (or `sweep merge`)"))?;
            let opts = SweepOpts {
                jobs,
                shard: shard.as_deref(),
                resume,
                force,
                quiet,
            };
            sweep(&file, out, &opts, &chart)
        }
        Command::Plan {
            file,
            targets,
            vary,
            cost,
            seeds,
            out,
        } => {
            if vary.len() == 1 && cost.is_empty() {
                plan(&file, &targets, &vary[0], seeds, out.as_deref())
            } else {
                plan_cheapest(&file, &targets, &vary, &cost, seeds)
            }
        }
        Command::Compare {
            baseline,
            candidate,
            fail_on,
            per_team,
            seeds,
            junit,
        } => compare(&baseline, &candidate, &fail_on, per_team, seeds, junit.as_deref()),
    }
}

fn load(path: &Path, seed: Option<u64>) -> Result<Scenario> {
    let mut s = Scenario::load(path)?;
    if let Some(seed) = seed {
        s.seed = seed;
    }
    Ok(s)
}

/// `render`: how to render the report after the run (`None`: tables and summary only).
fn run(
    path: &Path,
    out: Option<PathBuf>,
    seed: Option<u64>,
    render: Option<RenderOptions>,
    force: bool,
    quiet: bool,
) -> Result<ExitCode> {
    let scenario = load(path, seed)?;
    let resolved = scenario.resolve()?;
    if !quiet {
        for w in &resolved.warnings {
            eprintln!("warning: {w}");
        }
    }
    let info = run_info(&scenario);
    let dir = out.unwrap_or_else(|| Path::new("runs").join(&scenario.name));
    fairway_reports::claim_output_dir(&dir, force, true)?;
    if let Some(cfg) = &scenario.inflation {
        let curves = resolved.inflation()?;
        let summary = fairway_reports::inflation::summarize(&curves, &info, cfg.target);
        fairway_reports::inflation::write_inflation(&dir, &resolved.workload, &curves, &summary)?;
        if !quiet {
            print!("{}", fairway_reports::inflation::render(&summary));
            eprintln!("\nwrote {}", dir.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if scenario.bakeoff.is_some() {
        return bakeoff(&resolved, &info, &dir, quiet);
    }
    // The series goes to disk as the run makes it; the job table a batch at a time after.
    let shape =
        fairway_reports::frame::SeriesShape::of(&resolved.workload, resolved.options.track_fragmentation);
    let mut series = fairway_reports::SeriesFiles::create(&dir, shape)?;
    let started = Instant::now();
    let outcome = resolved.run_streaming(&mut series)?;
    let elapsed = started.elapsed();
    series.finish()?;
    let summary = fairway_reports::summarize(&resolved.workload, &outcome, &info);
    fairway_reports::write_outcome(&dir, &resolved.workload, &outcome, &summary)?;
    let events = outcome.counters.events;
    drop(outcome);
    drop(resolved);
    if let Some(opts) = render {
        fairway_reports::render::render_dir(&dir, opts)?;
    }
    if !quiet {
        print!("{}", fairway_reports::render(&summary));
        let secs = elapsed.as_secs_f64().max(1e-9);
        eprintln!(
            "\nsimulated {events} events in {secs:.2}s ({:.0} events/s); wrote {}",
            events as f64 / secs,
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs every policy of the bake-off (in parallel, each simulation on one thread), writes each
/// run's files into a numbered subfolder and `bakeoff.csv` with one row per policy, in the order
/// listed.
fn bakeoff(
    resolved: &fairway_scenarios::Resolved,
    info: &RunInfo,
    dir: &Path,
    quiet: bool,
) -> Result<ExitCode> {
    use rayon::prelude::*;
    let runs = resolved.bakeoff_runs()?;
    let outcomes: Vec<_> = runs.par_iter().map(|(p, q)| resolved.run_with(p, q)).collect();
    let mut summaries = Vec::new();
    for (i, o) in outcomes.into_iter().enumerate() {
        let o = o?;
        let s = fairway_reports::summarize(&resolved.workload, &o, info);
        let name: String = format!("{}-{}", o.policy, o.placement)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        fairway_reports::write_run(
            &dir.join(format!("{:02}-{name}", i + 1)),
            &resolved.workload,
            &o,
            &s,
        )?;
        summaries.push(s);
    }
    fairway_reports::write_atomic(&dir.join("bakeoff.csv"), |f| {
        fairway_reports::bakeoff::bakeoff_csv(f, &summaries)
    })?;
    if !quiet {
        print!("{}", fairway_reports::bakeoff::render(&summaries));
        eprintln!("\nwrote {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Re-renders one run from its tables, or compares several.
fn report(dirs: &[PathBuf], compare: bool, out: Option<PathBuf>, png: bool) -> Result<ExitCode> {
    use fairway_reports::compare_view;
    use fairway_reports::render::{RunData, render_dir};
    if !compare {
        if dirs.len() != 1 {
            anyhow::bail!("report takes one run folder (or several with --compare)");
        }
        render_dir(&dirs[0], RenderOptions { png })?;
        eprintln!(
            "wrote report.html, metrics.prom, charts/ in {}",
            dirs[0].display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if dirs.len() < 2 {
        anyhow::bail!("--compare needs at least two run folders");
    }
    let runs = dirs
        .iter()
        .map(|d| RunData::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    let out = out.unwrap_or_else(|| Path::new("runs").join("compare"));
    std::fs::create_dir_all(&out).with_context(|| format!("{}: cannot create", out.display()))?;
    let md = compare_view::markdown(&runs);
    let html = compare_view::html(&runs)?;
    fairway_reports::write_atomic(&out.join("compare.md"), |f| f.write_all(md.as_bytes()))?;
    fairway_reports::write_atomic(&out.join("compare.html"), |f| f.write_all(html.as_bytes()))?;
    print!("{md}");
    eprintln!("\nwrote compare.html and compare.md in {}", out.display());
    Ok(ExitCode::SUCCESS)
}

fn validate(path: &Path) -> Result<ExitCode> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if text.lines().any(|l| l.trim() == "[sweep]") {
        // A sweep file: every point must make a valid scenario; the first is checked in full.
        let sw = fairway_scenarios::sweep::Sweep::load(path)?;
        let runs = sw.runs();
        let axes: Vec<String> = sw
            .axes
            .iter()
            .map(|a| format!("{} ({} values)", a.keys.join(" + "), a.steps.len()))
            .collect();
        println!(
            "sweep     {} ({}): {} runs = {} points x {} seeds",
            sw.name,
            path.display(),
            runs.len(),
            runs.len() / sw.seeds.len(),
            sw.seeds.len()
        );
        println!("varies    {}", axes.join(", "));
        sw.scenario(&runs[0])?.resolve()?;
        println!("ok");
        return Ok(ExitCode::SUCCESS);
    }
    let scenario = load(path, None)?;
    let r = scenario.resolve()?;
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    let gpus: u64 = r.cluster.capacity_gpu_milli();
    println!("scenario  {} ({})", scenario.name, path.display());
    println!(
        "trace     {} jobs, {} teams, from {}",
        r.workload.len(),
        r.workload.teams.len(),
        r.workload.source
    );
    println!(
        "cluster   {} pools, {} nodes, {} GPUs ({})",
        r.cluster.pools().len(),
        r.cluster.node_count(),
        fmt_milli(gpus),
        r.cluster.models().join(", ")
    );
    println!("policy    {}  placement {}", r.policy, r.placement);
    let never = r.never_fitting();
    if never.is_empty() {
        println!("every job fits on the cluster");
    } else {
        println!(
            "{} jobs can never fit and will be reported unschedulable, e.g.:",
            never.len()
        );
        for (i, why) in never.iter().take(5) {
            println!("  {}: {why}", &r.workload.names[*i]);
        }
    }
    println!("ok");
    Ok(ExitCode::SUCCESS)
}

fn trace_stats(file: &Path, format: Option<FormatArg>) -> Result<ExitCode> {
    let format = match format {
        Some(FormatArg::Canonical) => TraceFormat::Canonical,
        Some(FormatArg::Openb) => TraceFormat::Openb,
        None => guess_format(file)?,
    };
    let loaded = fairway_traces::read(file, format)?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let s = fairway_traces::stats::of(&loaded.workload);
    println!("trace        {}", file.display());
    println!("jobs         {} in {} teams", s.jobs, s.teams);
    println!(
        "submitted    from {} to {} ({})",
        fmt_milli((s.first_submit_s * 1000.0) as u64),
        fmt_milli((s.last_submit_s * 1000.0) as u64),
        human_secs(s.last_submit_s - s.first_submit_s)
    );
    println!(
        "GPU demand   {:.1} GPU-hours; {:.1} GPUs busy on average over the submit span",
        s.gpu_hours, s.offered_load_gpus
    );
    let d = &s.duration_s;
    println!(
        "duration     mean {}  p50 {}  p90 {}  p95 {}  p99 {}  max {}",
        human_secs(d.mean),
        human_secs(d.p50),
        human_secs(d.p90),
        human_secs(d.p95),
        human_secs(d.p99),
        human_secs(d.max)
    );
    let mix: Vec<String> = s.by_gpus.iter().map(|(g, n)| format!("{g}: {n}")).collect();
    println!("GPUs per job {}", mix.join(", "));
    let teams: Vec<String> = s.per_team.iter().map(|(t, n)| format!("{t}: {n}")).collect();
    println!("per team     {}", teams.join(", "));
    println!(
        "             {} multi-pod, {} with a GPU-model constraint, {} with a recorded start, {} that may give up",
        s.multi_pod, s.with_model_constraint, s.with_recorded_start, s.with_patience
    );
    Ok(ExitCode::SUCCESS)
}

/// openb pod lists have `qos` and `creation_time`; everything else is read as canonical.
fn guess_format(file: &Path) -> Result<TraceFormat> {
    let text = std::fs::File::open(file).with_context(|| format!("{}: cannot read", file.display()))?;
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(text), &mut first)
        .with_context(|| format!("{}: cannot read", file.display()))?;
    let cols: Vec<&str> = first.trim().split(',').map(str::trim).collect();
    Ok(if cols.contains(&"qos") && cols.contains(&"creation_time") {
        TraceFormat::Openb
    } else {
        TraceFormat::Canonical
    })
}

fn generate(
    out: &Path,
    spec: Option<&Path>,
    jobs: Option<usize>,
    per_hour: Option<f64>,
    seed: u64,
) -> Result<ExitCode> {
    let (mut s, base) = match spec {
        Some(p) => {
            let s: SyntheticSpec = fairway_traces::tomlfile::read(p)?;
            (s, p.parent().map(Path::to_path_buf).unwrap_or_default())
        }
        None => (SyntheticSpec::with_jobs(jobs.unwrap_or(1000)), PathBuf::new()),
    };
    if let Some(j) = jobs {
        s.jobs = j;
    }
    if let Some(r) = per_hour {
        s.arrivals = fairway_traces::synthetic::Arrivals::Poisson { per_hour: r };
    }
    let w = fairway_traces::synthetic::generate(&s, seed, &base)?;
    fairway_reports::write_atomic(out, |f| {
        fairway_traces::write::canonical(&w, f).map_err(std::io::Error::other)
    })?;
    eprintln!("wrote {} jobs to {}", w.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

/// One side of a comparison: the summaries of a finished run, or of a scenario run with `seeds`
/// seeds (in parallel).
fn side(path: &Path, seeds: u64) -> Result<Vec<serde_json::Value>> {
    if path.is_dir() {
        let file = path.join("summary.json");
        let text =
            std::fs::read_to_string(&file).with_context(|| format!("{}: cannot read", file.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not a summary", file.display()))?;
        if v.get("schema").and_then(|s| s.as_str()) != Some(fairway_reports::SUMMARY_SCHEMA) {
            anyhow::bail!(
                "{}: not a run summary ({})",
                file.display(),
                fairway_reports::SUMMARY_SCHEMA
            );
        }
        return Ok(vec![v]);
    }
    let scenario = load(path, None)?;
    if scenario.bakeoff.is_some() || scenario.inflation.is_some() {
        anyhow::bail!(
            "{}: compare takes a plain scenario, not a bake-off or an inflation experiment",
            path.display()
        );
    }
    runs_with_additions(&scenario, &[], seeds)
}

fn compare(
    baseline: &Path,
    candidate: &Path,
    fail_on: &[String],
    per_team: bool,
    seeds: u64,
    junit: Option<&Path>,
) -> Result<ExitCode> {
    use fairway_reports::compare::{Check, evaluate, junit as junit_xml, markdown};
    let checks: Vec<Check> = fail_on
        .iter()
        .map(|c| c.parse().map_err(anyhow::Error::msg))
        .collect::<Result<_>>()?;
    let (b, c) = (side(baseline, seeds)?, side(candidate, seeds)?);
    let outcomes = evaluate(&checks, &b, &c, per_team);
    print!(
        "{}",
        markdown(
            &outcomes,
            &baseline.display().to_string(),
            &candidate.display().to_string(),
            b.len().max(c.len())
        )
    );
    if let Some(j) = junit {
        let xml = junit_xml(&outcomes);
        fairway_reports::write_atomic(j, |f| f.write_all(xml.as_bytes()))?;
    }
    Ok(if outcomes.iter().all(|o| o.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The labels of a run that come from its scenario.
fn run_info(sc: &Scenario) -> RunInfo {
    RunInfo {
        scenario: sc.name.clone(),
        seed: sc.seed,
        trace: sc
            .trace
            .path
            .as_ref()
            .map_or_else(|| "synthetic".to_string(), |p| p.display().to_string()),
        interactive_target_s: sc.interactive.target_start_s,
    }
}

/// Runs a resolved scenario; its summary as JSON.
fn run_summary(sc: &Scenario, r: &fairway_scenarios::Resolved) -> Result<serde_json::Value> {
    let o = r.run()?;
    Ok(serde_json::to_value(fairway_reports::summarize(
        &r.workload,
        &o,
        &run_info(sc),
    ))?)
}

/// `pool.NAME.nodes=A..B`
fn parse_vary(text: &str) -> Result<(String, i64, i64)> {
    let bad = || anyhow::anyhow!("--vary takes pool.NAME.nodes=A..B (nodes to add, A <= B), not '{text}'");
    let (key, range) = text.split_once('=').ok_or_else(bad)?;
    let pool = key
        .strip_prefix("pool.")
        .and_then(|k| k.strip_suffix(".nodes"))
        .ok_or_else(bad)?;
    let (a, b) = range.split_once("..").ok_or_else(bad)?;
    let (a, b): (i64, i64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a > b || b - a > 100_000 {
        return Err(bad());
    }
    Ok((pool.to_string(), a, b))
}

/// Summaries of `scenario` with nodes added to pools (none for the scenario as it is), one per
/// seed: its seed and the next ones, run in parallel.
fn runs_with_additions(
    scenario: &Scenario,
    adds: &[(String, i64)],
    seeds: u64,
) -> Result<Vec<serde_json::Value>> {
    use rayon::prelude::*;
    (0..seeds.max(1))
        .into_par_iter()
        .map(|i| {
            let mut sc = scenario.clone();
            sc.seed = scenario.seed.wrapping_add(i);
            for (pool, add) in adds.iter().filter(|a| a.1 != 0) {
                sc.whatif.push(fairway_scenarios::whatif::WhatIf::AddNodes {
                    pool: pool.clone(),
                    nodes: *add,
                });
            }
            run_summary(&sc, &sc.resolve()?)
        })
        .collect()
}

fn plan(file: &Path, targets: &[String], vary: &str, seeds: u64, out: Option<&Path>) -> Result<ExitCode> {
    use crate::plan::{Target, measure, meets, search};
    let scenario = load(file, None)?;
    let targets: Vec<Target> = targets
        .iter()
        .map(|t| t.parse().map_err(anyhow::Error::msg))
        .collect::<Result<_>>()?;
    let (pool, lo, hi) = parse_vary(vary)?;
    let mut cache: std::collections::BTreeMap<i64, Vec<serde_json::Value>> = Default::default();
    let mut error = None;
    // The marginal-value curve: up to 9 points over the range.
    let steps = (hi - lo).clamp(1, 8);
    let mut grid: Vec<i64> = (0..=steps).map(|i| lo + (hi - lo) * i / steps).collect();
    grid.dedup();
    let found = search(lo, hi, &grid, |x| {
        if error.is_some() {
            return false;
        }
        match runs_with_additions(&scenario, &[(pool.clone(), x)], seeds) {
            Ok(runs) => {
                let ok = targets.iter().all(|t| meets(t, &runs));
                cache.insert(x, runs);
                ok
            }
            Err(e) => {
                error = Some(e);
                false
            }
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    let mut table = String::new();
    let mut csv_text = String::from("nodes_added,target,mean,margin,meets\n");
    let _ = writeln!(
        table,
        "{:>11}  {}",
        "nodes added",
        targets
            .iter()
            .map(|t| format!("  {:>26}", t.text))
            .collect::<String>()
    );
    for (x, runs) in &cache {
        let cells: String = targets
            .iter()
            .map(|t| match measure(t, runs) {
                Some((m, e)) => {
                    csv_text.push_str(&format!("{x},{},{m},{e},{}\n", t.text, meets(t, runs)));
                    format!(
                        "  {:>26}",
                        format!(
                            "{}{} ± {}",
                            if meets(t, runs) { "" } else { "✗ " },
                            show_metric(m),
                            show_metric(e)
                        )
                    )
                }
                None => format!("  {:>26}", "-"),
            })
            .collect();
        let _ = writeln!(table, "{x:>11}  {cells}");
    }
    let n = seeds.max(1);
    match found.answer {
        Some(x) => {
            let why: Vec<String> = targets
                .iter()
                .filter_map(|t| {
                    measure(t, &cache[&x]).map(|(m, e)| {
                        format!(
                            "{} is {} (± {} over {n} seed(s))",
                            t.text.split(['<', '>']).next().unwrap_or(""),
                            show_metric(m),
                            show_metric(e)
                        )
                    })
                })
                .collect();
            println!("answer: add {x} node(s) to pool {pool}");
            let before = cache.range(..x).next_back().map(|(b, runs)| {
                let misses: Vec<String> = targets
                    .iter()
                    .filter(|t| !meets(t, runs))
                    .map(|t| t.text.clone())
                    .collect();
                format!(" With {b} added, {} would not hold.", misses.join(" and "))
            });
            println!(
                "\nAdding {x} node(s) to pool {pool} is the smallest addition in {lo}..{hi} that meets every target ({}): {}.{}",
                targets
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                why.join("; "),
                before.unwrap_or_default()
            );
        }
        None => println!("no addition in {lo}..{hi} to pool {pool} meets every target"),
    }
    if found.scanned {
        println!(
            "(adding nodes did not always help on the points evaluated, so every addition in the range was tried)"
        );
    }
    println!("\n{table}");
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        fairway_reports::write_atomic(&dir.join("plan.csv"), |f| f.write_all(csv_text.as_bytes()))?;
        // The marginal-value curve of each target: the mean over seeds, the band its margin.
        for (k, t) in targets.iter().enumerate() {
            let chart = fairway_reports::chart::Chart::Bands {
                stem: "plan",
                title: format!("{} as nodes are added to pool {pool} (band: ± margin)", t.text),
                x_desc: format!("nodes added to pool {pool}"),
                y_desc: t.text.split(['<', '>']).next().unwrap_or("").to_string(),
                series: vec![fairway_reports::chart::Band {
                    name: t.text.clone(),
                    points: (cache.iter())
                        .filter_map(|(x, runs)| measure(t, runs).map(|(m, e)| (*x as f64, m, m - e, m + e)))
                        .collect(),
                }],
            };
            let svg = chart.svg().map_err(anyhow::Error::msg)?;
            fairway_reports::write_atomic(&dir.join(format!("plan-{}.svg", k + 1)), |f| {
                f.write_all(svg.as_bytes())
            })?;
        }
    }
    Ok(if found.answer.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Several pools: the cheapest combination of additions that meets every target.
fn plan_cheapest(
    file: &Path,
    targets: &[String],
    vary: &[String],
    cost: &[String],
    seeds: u64,
) -> Result<ExitCode> {
    use crate::plan::{Target, meets, search_cheapest};
    let scenario = load(file, None)?;
    let targets: Vec<Target> = targets
        .iter()
        .map(|t| t.parse().map_err(anyhow::Error::msg))
        .collect::<Result<_>>()?;
    let axes: Vec<(String, i64, i64)> = vary.iter().map(|v| parse_vary(v)).collect::<Result<_>>()?;
    let combos: f64 = axes.iter().map(|a| (a.2 - a.1 + 1) as f64).product();
    if combos > 100_000.0 {
        anyhow::bail!("--vary spans {combos} combinations; at most 100,000");
    }
    let mut prices = vec![1.0; axes.len()];
    for c in cost {
        let bad = || anyhow::anyhow!("--cost takes pool.NAME=PRICE (PRICE >= 0), not '{c}'");
        let (k, v) = c.split_once('=').ok_or_else(bad)?;
        let pool = k.strip_prefix("pool.").ok_or_else(bad)?;
        let price: f64 = v.trim().parse().map_err(|_| bad())?;
        if !(price.is_finite() && price >= 0.0) {
            return Err(bad());
        }
        let i = axes
            .iter()
            .position(|a| a.0 == pool)
            .ok_or_else(|| anyhow::anyhow!("--cost names pool '{pool}', which no --vary varies"))?;
        prices[i] = price;
    }
    let ranges: Vec<(i64, i64)> = axes.iter().map(|a| (a.1, a.2)).collect();
    let mut error = None;
    let found = search_cheapest(&ranges, &prices, |c| {
        if error.is_some() {
            return false;
        }
        let adds: Vec<(String, i64)> = axes.iter().zip(c).map(|(a, &x)| (a.0.clone(), x)).collect();
        match runs_with_additions(&scenario, &adds, seeds) {
            Ok(runs) => targets.iter().all(|t| meets(t, &runs)),
            Err(e) => {
                error = Some(e);
                false
            }
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    let describe = |c: &[i64]| {
        axes.iter()
            .zip(c)
            .map(|(a, x)| format!("{x} to pool {}", a.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &found.answer {
        Some(c) => {
            let total: f64 = c.iter().zip(&prices).map(|(&x, &p)| x as f64 * p).sum();
            println!("answer: add {} (cost {total})", describe(c));
            println!(
                "\nThe cheapest combination in the ranges that meets every target ({}): {} evaluated of {combos}.",
                targets
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                found.evaluated.len()
            );
        }
        None => println!("no combination in the ranges meets every target"),
    }
    if found.scanned {
        println!(
            "(adding nodes did not always help on the points evaluated, so every combination was tried in cost order)"
        );
    }
    Ok(if found.answer.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Seconds as people read them; fractions as they are.
fn show_metric(v: f64) -> String {
    if v.abs() >= 60.0 {
        human_secs(v)
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// The file that marks a sweep run's folder complete (written last).
const COMPLETE: &str = ".complete";

/// How a sweep runs.
struct SweepOpts<'a> {
    jobs: Option<usize>,
    shard: Option<&'a str>,
    resume: bool,
    force: bool,
    quiet: bool,
}

fn sweep(
    file: &Path,
    out: Option<PathBuf>,
    opts: &SweepOpts<'_>,
    chart: &SweepChartArgs,
) -> Result<ExitCode> {
    let SweepOpts {
        jobs,
        shard,
        resume,
        force,
        quiet,
    } = *opts;
    use fairway_scenarios::sweep::{Sweep, parse_shard};
    fairway_reports::compare::metric_path(chart.metric(), "--chart-metric").map_err(anyhow::Error::msg)?;
    let sw = Sweep::load(file)?;
    let (i, n) = match shard {
        Some(s) => parse_shard(s).map_err(anyhow::Error::msg)?,
        None => (0, 1),
    };
    let runs: Vec<_> = sw.runs().into_iter().filter(|r| r.run % n == i).collect();
    let dir = out.unwrap_or_else(|| Path::new("runs").join(format!("{}-sweep", sw.name)));
    fairway_reports::claim_output_dir(&dir, force, false)?;
    // Plain threads taking runs in turn, not a rayon pool: writing a run's tables waits on polars'
    // own pool, and a rayon worker waiting on another pool starts further runs of its own pool on
    // the same stack, which then finish only in reverse order and leave the other thread idle.
    let threads = match jobs {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    // Ctrl-C: runs under way finish and are kept; no new run starts.
    static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| STOP.store(true, std::sync::atomic::Ordering::SeqCst));
    let total = runs.len();
    let bar =
        if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) || std::env::var_os("CI").is_some()
        {
            indicatif::ProgressBar::hidden()
        } else {
            let b = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs, {elapsed} elapsed, about {eta} left",
            ) {
                b.set_style(style);
            }
            b
        };
    let run_one = |r: &fairway_scenarios::sweep::Run| -> Option<Result<serde_json::Value>> {
        if STOP.load(std::sync::atomic::Ordering::SeqCst) {
            return None;
        }
        let rd = dir.join(format!("run-{:05}", r.run + 1));
        let result = (|| -> Result<serde_json::Value> {
            if resume && rd.join(COMPLETE).exists() {
                let text = std::fs::read_to_string(rd.join("summary.json"))?;
                return Ok(serde_json::from_str(&text)?);
            }
            let sc = sw.scenario(r)?;
            let resolved = sc.resolve()?;
            let o = resolved.run()?;
            let info = run_info(&sc);
            let s = fairway_reports::summarize(&resolved.workload, &o, &info);
            fairway_reports::write_run(&rd, &resolved.workload, &o, &s)?;
            fairway_reports::write_atomic(&rd.join(COMPLETE), |_| Ok(()))?;
            Ok(serde_json::to_value(&s)?)
        })();
        bar.inc(1);
        Some(result)
    };
    let slots: Vec<std::sync::OnceLock<Option<Result<serde_json::Value>>>> =
        (0..runs.len()).map(|_| std::sync::OnceLock::new()).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads.min(runs.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(r) = runs.get(i) else { break };
                    let _ = slots[i].set(run_one(r));
                }
            });
        }
    });
    let results: Vec<Option<Result<serde_json::Value>>> =
        slots.into_iter().map(|s| s.into_inner().flatten()).collect();
    bar.finish_and_clear();
    if results.iter().any(Option::is_none) {
        let finished = results.iter().filter(|r| matches!(r, Some(Ok(_)))).count();
        eprintln!(
            "stopped: {finished} of {total} runs finished and kept in {}; run the same command with --resume to finish",
            dir.display()
        );
        return Ok(ExitCode::from(130));
    }
    let results: Vec<Result<serde_json::Value>> = results.into_iter().flatten().collect();
    let mut summaries = Vec::with_capacity(results.len());
    for (r, res) in runs.iter().zip(results) {
        summaries.push(res.with_context(|| format!("run {} of the sweep", r.run + 1))?);
    }
    let keys: Vec<String> = sw.axes.iter().flat_map(|a| a.keys.iter().cloned()).collect();
    let mut rows: Vec<fairway_reports::sweep::SweepRow<'_>> = runs
        .iter()
        .zip(&summaries)
        .map(|(r, s)| fairway_reports::sweep::SweepRow {
            run: r.run,
            point: r.point,
            seed: r.seed,
            set: r
                .set
                .iter()
                .map(|(_, v)| fairway_scenarios::sweep::show(v))
                .collect(),
            summary: s,
        })
        .collect();
    let bytes = fairway_reports::sweep::sweep_csv(&keys, &mut rows)?;
    write_sweep_tables(&dir, &bytes, chart, quiet)?;
    if !quiet {
        eprintln!("{} runs; wrote {}", rows.len(), dir.join("sweep.csv").display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes sweep.csv, sweep.parquet and charts/sweep.svg from the CSV bytes. A sweep with no
/// numeric key has no chart (said unless quiet).
fn write_sweep_tables(dir: &Path, csv_bytes: &[u8], chart: &SweepChartArgs, quiet: bool) -> Result<()> {
    use fairway_reports::sweep::{sweep_chart, sweep_frame};
    fairway_reports::write_atomic(&dir.join("sweep.csv"), |f| f.write_all(csv_bytes))?;
    let frame = sweep_frame(csv_bytes).map_err(anyhow::Error::msg)?;
    fairway_reports::frame::write_parquet(&dir.join("sweep.parquet"), frame)?;
    match sweep_chart(csv_bytes, chart.metric(), chart.chart_x.as_deref()) {
        Ok(c) => {
            let svg = c.svg().map_err(anyhow::Error::msg)?;
            let charts = dir.join("charts");
            std::fs::create_dir_all(&charts)
                .with_context(|| format!("{}: cannot create", charts.display()))?;
            fairway_reports::write_atomic(&charts.join("sweep.svg"), |f| f.write_all(svg.as_bytes()))?;
        }
        Err(e) if chart.chosen() => {
            anyhow::bail!("sweep chart: {e}")
        }
        Err(e) if !quiet => eprintln!("no sweep chart: {e}"),
        Err(_) => {}
    }
    Ok(())
}

fn sweep_merge(dirs: &[PathBuf], out: &Path, chart: &SweepChartArgs) -> Result<ExitCode> {
    let mut files = Vec::new();
    for d in dirs {
        let f = d.join("sweep.csv");
        let text = std::fs::read_to_string(&f).with_context(|| format!("{}: cannot read", f.display()))?;
        files.push((f.display().to_string(), text));
    }
    let bytes = fairway_reports::sweep::merge(&files).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    write_sweep_tables(out, &bytes, chart, false)?;
    Ok(ExitCode::SUCCESS)
}

fn list() -> Result<ExitCode> {
    for (title, entries) in [
        ("policies", fairway_policies::POLICIES),
        ("placements", fairway_policies::PLACEMENTS),
    ] {
        println!("{title}:");
        for e in entries {
            println!("  {:<12} {}", e.name, e.summary);
            for p in e.params {
                println!("  {:<12}   {p}", "");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
