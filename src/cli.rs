//! Command-line parsing, one library call per subcommand, printing and exit codes.

use anyhow::Result;
use clap::{Parser, Subcommand};
use fairway_policies::Registry;
use fairway_reports::render::RenderOptions;
use fairway_reports::sweep::ChartChoice;
use fairway_scenarios::Scenario;
use fairway_scenarios::study::{self, Executor};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
        #[command(flatten)]
        prom: PromQueues,
        /// Write into the output folder even if it is not empty and holds no earlier output.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        parallel: Parallel,
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
        #[command(flatten)]
        prom: PromQueues,
    },
    /// Check a scenario without running it: files, names, parameters, jobs that can never fit.
    Validate {
        /// The scenario file (TOML), or a sweep file.
        scenario: PathBuf,
    },
    /// Inspect trace files, or import one from another tool's format.
    Trace {
        #[command(subcommand)]
        command: TraceCommand,
    },
    /// Import a cluster from another tool's format.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Write a synthetic trace in the canonical CSV format.
    Gen {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Generator settings, as in a scenario's [trace.synthetic] table.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Number of jobs in the trace (overrides the spec) [default: 1000].
        #[arg(long)]
        jobs: Option<usize>,
        /// Mean arrivals per hour, Poisson (overrides the spec).
        #[arg(long)]
        per_hour: Option<f64>,
        /// Seed of the generator: the same seed and settings give the same trace.
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
        #[command(flatten)]
        parallel: Parallel,
        /// Deprecated spelling of --parallel.
        #[arg(long = "jobs", hide = true)]
        old_jobs: Option<usize>,
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
        /// Print nothing but errors (no progress bar, no results table).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Capacity planning: the fewest nodes to add to a pool so that every target holds.
    Plan {
        /// The scenario (its cluster is the starting point).
        file: PathBuf,
        /// A target: METRIC<=VALUE or METRIC>=VALUE (units s, m, h, d for times, % for
        /// fractions), optionally team:NAME:METRIC<=VALUE where NAME is a team, or a LocalQueue
        /// or ClusterQueue that holds one team's jobs; e.g. p95_wait<=2h. Repeat for several.
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        /// What to vary: pool.NAME.nodes=A..B, nodes added to pool NAME, from A to B (repeat to
        /// vary several pools: the cheapest combination wins, see --cost); or
        /// kueue.CLUSTERQUEUE.FLAVOR.RESOURCE.nominal=A..B, a ClusterQueue's nominal quota (on
        /// its own; --out then writes the answer's manifests).
        #[arg(long, required = true)]
        vary: Vec<String>,
        /// Price of one node of a pool, pool.NAME=PRICE (default 1 each); with several --vary,
        /// the answer is the cheapest combination meeting every target.
        #[arg(long)]
        cost: Vec<String>,
        /// Seeds per point (the scenario's seed and the next ones); a target holds at a point
        /// when its whole 95 % t-interval over the seeds is within the bound.
        #[arg(long, default_value_t = 5)]
        seeds: u64,
        /// Also write plan.csv (the marginal-value curve) and a chart of it per target
        /// (plan-1.svg, ...) into this folder; with several pools, plan.csv has a row per
        /// combination evaluated and target.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        parallel: Parallel,
    },
    /// The CI gate: compare a candidate with a baseline; exit 0 if every check holds, 1 if any
    /// regressed or could not be compared (values on different bases), 2 on error. Prints a
    /// Markdown summary.
    Compare {
        /// A run's output folder (its summary.json) or a scenario file to run.
        baseline: PathBuf,
        /// Same, for the candidate.
        candidate: PathBuf,
        /// A check METRIC:+AMOUNT or METRIC:-AMOUNT (units %, pp, s, m, h, d, or none): the sign
        /// is the direction that is a regression, e.g. p95_wait:+5% or gpu_allocation_rate:-2pp.
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
        #[command(flatten)]
        parallel: Parallel,
    },
}

/// How many queues metrics.prom names.
#[derive(clap::Args)]
struct PromQueues {
    /// metrics.prom names the N queues with the most allocated GPU-hours and sums the rest as
    /// cluster_queue="others" (its size grows with queues x samples); `all` names every queue.
    #[arg(long, value_name = "N", default_value = "100", value_parser = parse_prom_queues)]
    prom_queues: QueueLimit,
}

/// A number of queues, or none for all.
#[derive(Clone, Copy)]
struct QueueLimit(Option<usize>);

fn parse_prom_queues(s: &str) -> Result<QueueLimit, String> {
    match s {
        "all" => Ok(QueueLimit(None)),
        n => n
            .parse()
            .map(|n| QueueLimit(Some(n)))
            .map_err(|_| format!("'{n}' is not a number of queues or `all`")),
    }
}

impl PromQueues {
    fn options(&self, png: bool) -> RenderOptions {
        RenderOptions {
            png,
            prom_queues: self.prom_queues.0,
        }
    }

    /// Says when metrics.prom of the run of `summary` sums queues.
    fn warn(&self, summary: &fairway_reports::RunSummary) {
        let bound = fairway_reports::prom::QueueBound::of(summary, self.prom_queues.0);
        if let Some(note) = bound.note() {
            eprintln!("note: {note}");
        }
    }
}

/// How many simulations run at once.
#[derive(clap::Args)]
struct Parallel {
    /// Simulations at once (each is single-threaded) [default: the machine's cores].
    #[arg(long)]
    parallel: Option<usize>,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Combine the sweep.csv of shards into one (and its sweep.parquet and chart), as a single
    /// run of the sweep writes them.
    Merge {
        /// The shards' output folders.
        dirs: Vec<PathBuf>,
        /// Where the merged sweep.csv, sweep.parquet and chart go.
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
    fn choice(self) -> ChartChoice {
        ChartChoice {
            metric: self.chart_metric,
            x: self.chart_x,
        }
    }
}

#[derive(Subcommand)]
enum TraceCommand {
    /// Rows, span, GPU demand and duration percentiles of a trace file.
    Stats {
        /// The trace file (canonical CSV, an openb pod list, or an importer's format).
        file: PathBuf,
        /// The file's format [default: canonical or openb, guessed from the header].
        #[arg(long)]
        format: Option<String>,
    },
    /// Read a trace in another tool's format (Kueue Workloads, Kubernetes pods, public research
    /// traces) and write it as fairway's canonical CSV, with an account of what was left out.
    Import {
        /// The format: kueue-workloads, kubernetes-pods, ... (`fairway trace import --help`
        /// lists them all).
        #[arg(long)]
        from: String,
        /// The files to read (e.g. `kubectl get workloads -A -o json > workloads.json`).
        #[arg(required_unless_present = "url")]
        files: Vec<PathBuf>,
        /// For prometheus: query this Prometheus (http://HOST:9090, or Mimir's or Thanos's
        /// base URL) instead of reading files.
        #[arg(long, requires_all = ["start", "end"], conflicts_with = "files")]
        url: Option<String>,
        /// With --url: the span's start, RFC 3339 (2026-05-10T00:00:00Z).
        #[arg(long, requires = "url")]
        start: Option<String>,
        /// With --url: the span's end, RFC 3339.
        #[arg(long, requires = "url")]
        end: Option<String>,
        /// With --url: the range queries' resolution (60s, 5m) [default: 60s].
        #[arg(long, requires = "url")]
        step: Option<String>,
        #[command(flatten)]
        common: ImportCommon,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Read nodes (`kubectl get nodes -o json`) and write pools of identical nodes as a cluster
    /// file.
    Import {
        /// The format: kubernetes-nodes.
        #[arg(long)]
        from: String,
        /// The files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        common: ImportCommon,
    },
}

/// What every import takes besides its format and files.
#[derive(clap::Args)]
struct ImportCommon {
    /// Output file (trace CSV, or cluster TOML).
    #[arg(long)]
    out: PathBuf,
    /// Mapping rules: a TOML file of [[rules]] tables that set team, queue, priority and kind
    /// from namespaces, names, labels and annotations.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// A resource name counted as GPUs (repeat for several) [default: nvidia.com/gpu,
    /// amd.com/gpu, gpu.intel.com/i915].
    #[arg(long = "gpu-resource")]
    gpu_resources: Vec<String>,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
}

impl ImportCommon {
    fn args<'a>(&'a self, files: &'a [PathBuf]) -> study::import::ImportArgs<'a> {
        study::import::ImportArgs {
            files,
            out: &self.out,
            mapping: self.mapping.as_deref(),
            gpu_resources: &self.gpu_resources,
            force: self.force,
            prometheus: None,
        }
    }
}

/// An importer's account, escaped for the terminal (names come from the user's files).
fn print_report(report: &fairway_traces::import::Report) {
    for line in report.render().lines() {
        eprintln!("{}", fairway_reports::escape::terminal(line));
    }
}

/// Set on the first Ctrl-C: runs under way finish and are kept, no new run starts. A second
/// Ctrl-C ends the process at once.
fn executor(parallel: &Parallel, bar: Option<indicatif::ProgressBar>) -> Executor {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping: runs under way finish and are kept (Ctrl-C again to quit now)");
    });
    let exec = Executor::new(parallel.parallel).stop_on(stop);
    match bar {
        Some(bar) => exec.on_progress(Arc::new(move |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })),
        None => exec,
    }
}

/// A progress bar on a terminal, none when quiet, piped or under CI.
fn progress_bar(quiet: bool) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) || std::env::var_os("CI").is_some() {
        return None;
    }
    let b = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {pos}/{len} runs, {elapsed} elapsed, about {eta} left",
    ) {
        b.set_style(style);
    }
    Some(b)
}

/// A run's progress on a terminal (none when quiet, piped or under CI): jobs arrived of all,
/// and the time so far; a bake-off counts its runs instead.
fn run_progress(quiet: bool, bakeoff: bool) -> Option<indicatif::ProgressBar> {
    let b = progress_bar(quiet)?;
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} {msg}, {elapsed} so far")
    {
        b.set_style(style);
    }
    b.set_message(if bakeoff { "runs" } else { "jobs arrived" });
    b.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(b)
}

/// A plan's progress on a terminal (none when piped or under CI): it does not know how many
/// points the search will evaluate, so it counts the runs of the current point and the time.
fn plan_progress() -> Option<indicatif::ProgressBar> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) || std::env::var_os("CI").is_some() {
        return None;
    }
    let b = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} plan: {pos}/{len} runs of the current point, {elapsed} in all",
    ) {
        b.set_style(style);
    }
    b.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(b)
}

fn warn_all(warnings: &[String]) {
    for w in warnings {
        // Warnings quote names from the trace.
        eprintln!("warning: {}", fairway_reports::escape::terminal(w));
    }
}

fn parse_all<T: std::str::FromStr>(texts: &[String]) -> Result<Vec<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    Ok(texts.iter().map(|t| t.parse()).collect::<Result<_, _>>()?)
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    fairway_reports::write_atomic(path, |f| f.write_all(text.as_bytes()))?;
    Ok(())
}

pub fn main() -> Result<ExitCode> {
    let registry = Registry::builtin();
    match Cli::parse().command {
        Command::Run {
            scenario,
            out,
            seed,
            png,
            no_report,
            prom,
            force,
            parallel,
            quiet,
        } => {
            let mut sc = Scenario::load(&scenario)?;
            sc.seed = seed.unwrap_or(sc.seed);
            let resolved = study::run::prepare(&sc, &registry)?;
            if !quiet {
                warn_all(&resolved.warnings);
            }
            let opts = study::run::RunOptions {
                out: out.unwrap_or_else(|| Path::new("runs").join(&sc.name)),
                render: (!no_report).then(|| prom.options(png)),
                force,
            };
            let bar = run_progress(quiet, resolved.scenario.bakeoff.is_some());
            let exec = executor(&parallel, bar.clone());
            let report = study::run::run(&resolved, &opts, &exec);
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let report = report?;
            if !quiet {
                print!("{}", report.render());
                if let study::run::RunReport::Replay { summary, .. } = &report
                    && !no_report
                {
                    prom.warn(summary);
                }
                if let study::run::RunReport::Replay { events, elapsed, .. } = &report {
                    let secs = elapsed.as_secs_f64().max(1e-9);
                    eprintln!(
                        "\nsimulated {events} events in {secs:.2}s ({:.0} events/s); wrote {}",
                        *events as f64 / secs,
                        opts.out.display()
                    );
                } else {
                    eprintln!("\nwrote {}", opts.out.display());
                }
            }
        }
        Command::Report {
            dirs,
            compare,
            out,
            png,
            prom,
        } => {
            if !compare {
                anyhow::ensure!(
                    dirs.len() == 1,
                    "report takes one run folder (or several with --compare)"
                );
                let run = fairway_reports::render::render_dir(&dirs[0], prom.options(png))?;
                prom.warn(&run.summary);
                eprintln!(
                    "wrote report.html, metrics.prom, charts/ in {}",
                    dirs[0].display()
                );
            } else {
                let out = out.unwrap_or_else(|| Path::new("runs").join("compare"));
                let md = fairway_reports::compare_view::write(&dirs, &out)?;
                print!("{md}");
                eprintln!("\nwrote compare.html and compare.md in {}", out.display());
            }
        }
        Command::Validate { scenario } => {
            let v = study::validate::validate(&scenario, &registry)?;
            warn_all(&v.warnings);
            print!("{}", v.text);
        }
        Command::Trace {
            command: TraceCommand::Stats { file, format },
        } => {
            let format = match format {
                Some(f) => fairway_traces::TraceFormat::parse(&f).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--format takes one of {}, not '{f}'",
                        fairway_traces::TraceFormat::names().join(", ")
                    )
                })?,
                None => fairway_traces::sniff_format(&file)?,
            };
            let loaded = fairway_traces::read(&file, format)?;
            warn_all(&loaded.warnings);
            let stats = fairway_traces::stats::of(&loaded.workload);
            for line in stats.render(&file.display().to_string()).lines() {
                println!("{}", fairway_reports::escape::terminal(line));
            }
        }
        Command::Trace {
            command:
                TraceCommand::Import {
                    from,
                    files,
                    url,
                    start,
                    end,
                    step,
                    common,
                },
        } => {
            let source = url.map(|url| fairway_scenarios::PrometheusSource {
                url,
                start: start.unwrap_or_default(),
                end: end.unwrap_or_default(),
                step,
            });
            let mut args = common.args(&files);
            args.prometheus = source.as_ref();
            let report = study::import::trace(&from, &args)?;
            print_report(&report);
            eprintln!("wrote {} job(s) to {}", report.imported, common.out.display());
        }
        Command::Cluster {
            command: ClusterCommand::Import { from, files, common },
        } => {
            let report = study::import::cluster(&from, &common.args(&files))?;
            print_report(&report);
            eprintln!(
                "wrote {} node(s) as pools to {}",
                report.imported,
                common.out.display()
            );
        }
        Command::Gen {
            out,
            spec,
            jobs,
            per_hour,
            seed,
        } => {
            let n = study::generate(spec.as_deref(), jobs, per_hour, seed, &out)?;
            eprintln!("wrote {n} jobs to {}", out.display());
        }
        Command::List => print!("{}", list(&registry)),
        Command::Sweep {
            merge: Some(SweepCommand::Merge { dirs, out, chart }),
            ..
        } => {
            if let Some(why) = study::sweep::merge(&dirs, &out, &chart.choice())? {
                eprintln!("no sweep chart: {why}");
            }
        }
        Command::Sweep {
            merge: None,
            file,
            out,
            parallel,
            old_jobs,
            shard,
            resume,
            chart,
            force,
            quiet,
        } => {
            let file = file.ok_or_else(|| anyhow::anyhow!("sweep needs a sweep file (or `sweep merge`)"))?;
            let mut parallel = parallel;
            if let Some(n) = old_jobs {
                eprintln!("warning: sweep --jobs is deprecated; use --parallel");
                parallel.parallel = parallel.parallel.or(Some(n));
            }
            let sweep = fairway_scenarios::sweep::Sweep::load(&file)?;
            let opts = study::sweep::SweepOptions {
                out: out.unwrap_or_else(|| Path::new("runs").join(format!("{}-sweep", sweep.name))),
                shard: shard.as_deref().map(study::sweep::parse_shard).transpose()?,
                resume,
                force,
                chart: chart.choice(),
            };
            let bar = progress_bar(quiet);
            let exec = executor(&parallel, bar.clone());
            let report = study::sweep::run_sweep(&sweep, &registry, &opts, &exec);
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            let report = report?;
            if !quiet {
                print!("{}", report.results);
                if let Some(why) = &report.no_chart {
                    eprintln!("no sweep chart: {why}");
                }
                if resume {
                    eprintln!(
                        "{} of {} runs kept from before; {} found for an older version of the sweep, run again",
                        report.reused, report.runs, report.stale
                    );
                }
                eprintln!("{} runs; wrote {}", report.runs, report.csv.display());
                if report.teams_left_out > 0 {
                    eprintln!(
                        "note: sweep.csv has team columns for the {} teams with the most GPU-hours; {} others have none",
                        fairway_reports::sweep::MAX_SWEEP_TEAMS,
                        report.teams_left_out
                    );
                }
            }
        }
        Command::Plan {
            file,
            targets,
            vary,
            cost,
            seeds,
            out,
            parallel,
        } => {
            let req = study::plan::PlanRequest {
                targets: parse_all(&targets)?,
                vary: parse_all(&vary)?,
                costs: parse_all(&cost)?,
                seeds,
            };
            let scenario = Scenario::load(&file)?;
            let bar = plan_progress();
            let plan = study::plan::plan(&scenario, &registry, &req, &executor(&parallel, bar.clone()));
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let plan = plan?;
            print!("{}", plan.render());
            match (&plan, &out) {
                (study::plan::Plan::OnePool(p), Some(dir)) => p.write(dir)?,
                (study::plan::Plan::Cheapest(c), Some(dir)) => c.write(dir)?,
                _ => {}
            }
            if !plan.answered() {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Compare {
            baseline,
            candidate,
            fail_on,
            per_team,
            seeds,
            junit,
            parallel,
        } => {
            let checks = parse_all(&fail_on)?;
            let exec = executor(&parallel, None);
            let v =
                study::compare::compare(&baseline, &candidate, &checks, per_team, seeds, &registry, &exec)?;
            print!("{}", v.markdown);
            if let Some(j) = junit {
                write_file(&j, &v.junit)?;
            }
            if !v.passed() {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `fairway list`: every policy and placement, with its parameters.
fn list(registry: &Registry) -> String {
    let describe = |ps: &[fairway_policies::ParamDecl]| ps.iter().map(|p| p.describe()).collect();
    let policies: Vec<(&str, &str, Vec<String>)> = registry
        .policies()
        .iter()
        .map(|e| (e.name, e.summary, describe(e.params)))
        .collect();
    let placements: Vec<(&str, &str, Vec<String>)> = registry
        .placements()
        .iter()
        .map(|e| (e.name, e.summary, describe(e.params)))
        .collect();
    let width = policies
        .iter()
        .chain(&placements)
        .map(|e| e.0.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (title, entries) in [("policies", policies), ("placements", placements)] {
        out.push_str(&format!("{title}:\n"));
        for (name, summary, params) in entries {
            out.push_str(&format!("  {name:<width$}  {summary}\n"));
            for p in params {
                out.push_str(&format!("  {:<width$}    {p}\n", ""));
            }
        }
    }
    out
}
