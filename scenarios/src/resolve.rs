//! Resolution: reading the trace and the cluster a scenario names, applying its what-ifs, and
//! building what a run needs into a [`Resolved`], so that every error surfaces before a run starts.

use crate::error::ScenarioError;
use crate::schema::Scenario;
use crate::{inflation, whatif};
use fairway_engine::{
    Cluster, ClusterSpec, EngineOptions, Outcome, SeriesSink, SimDuration, SimTime, Simulation, Workload,
};
use fairway_policies::{
    Param, Registry, RegistryError, ResolvedPlacement, ResolvedPolicy, Setup, Spec, SpecSyntaxError,
};
use fairway_traces::{ClusterFormat, TraceFormat};
use std::collections::BTreeMap;
use std::path::PathBuf;

impl Scenario {
    /// The policy's name and parameters, from `name` and `params` together.
    pub fn policy_spec(&self) -> Result<Spec, ScenarioError> {
        let mut spec =
            merge_spec(&self.policy.name, &self.policy.params).map_err(|m| self.invalid("policy.name", m))?;
        if let Some(m) = &self.policy.manifests {
            let path = self.base.join(m).display().to_string();
            if spec.params.insert("manifests".into(), Param::Str(path)).is_some() {
                return Err(self.invalid(
                    "policy.manifests",
                    "given twice (also in the policy's parameters)",
                ));
            }
        }
        for w in &self.whatif {
            if let whatif::WhatIf::PolicyParam { key, value } = w {
                let one: BTreeMap<String, toml::Value> = [(key.clone(), value.clone())].into();
                let extra =
                    merge_spec(&spec.name, &one).map_err(|m| self.invalid("whatif.policy_param", m))?;
                spec.params.extend(extra.params);
            }
        }
        Ok(spec)
    }

    pub fn placement_spec(&self) -> Result<Spec, ScenarioError> {
        merge_spec(&self.policy.placement, &self.policy.placement_params)
            .map_err(|m| self.invalid("policy.placement", m))
    }

    /// The scheduled and random outages, resolved to nodes.
    fn outages(
        &self,
        w: &Workload,
        cluster: &Cluster,
    ) -> Result<Vec<fairway_traces::failures::Outage>, ScenarioError> {
        let f = &self.failures;
        let mut out = Vec::new();
        let ms = |s: f64| SimTime(fairway_engine::time::secs_to_millis(s).unwrap_or(0));
        for (i, o) in f.schedule.iter().enumerate() {
            let Some(pool) = cluster.pools().iter().find(|p| p.name == o.pool) else {
                let known: Vec<&str> = cluster.pools().iter().map(|p| p.name.as_str()).collect();
                return Err(self.invalid(
                    &format!("failures.schedule[{i}].pool"),
                    format!("no pool '{}' (pools: {})", o.pool, known.join(", ")),
                ));
            };
            if o.node >= pool.nodes.len() as u32 {
                return Err(self.invalid(
                    &format!("failures.schedule[{i}].node"),
                    format!("pool '{}' has {} nodes", o.pool, pool.nodes.len()),
                ));
            }
            out.push(fairway_traces::failures::Outage {
                node: fairway_engine::NodeId(pool.nodes.start + o.node),
                down: ms(o.down_s),
                up: o.up_s.map(ms),
            });
        }
        if let (Some(mtbf), Some(mttr)) = (f.mtbf_h, f.mttr_h) {
            let until = match f.until_s {
                Some(u) => ms(u),
                None => {
                    let last = w.jobs.last().map_or(SimTime::ZERO, |j| j.submit);
                    let longest = (w.jobs.iter().filter(|j| !j.open_ended))
                        .map(|j| j.work)
                        .max()
                        .unwrap_or_default();
                    last + longest
                }
            };
            use fairway_traces::failures::FailureError;
            let drawn = fairway_traces::failures::generate(
                cluster.node_count() as u32,
                mtbf * 3600.0,
                mttr * 3600.0,
                until,
                self.seed,
            )
            .map_err(|e| match e {
                FailureError::TooMany { .. } => self.invalid(
                    "failures.mtbf_h",
                    format!("{e}; raise mtbf_h or mttr_h, or set an earlier until_s"),
                ),
                _ => self.invalid("failures", "mtbf_h and mttr_h must be > 0"),
            })?;
            out.extend(drawn);
        }
        out.sort_by_key(|o| (o.down, o.node));
        Ok(out)
    }

    /// The engine's options, with job classes and GPU models resolved against the workload and
    /// the cluster (classes or models they lack are ignored).
    fn engine_options(&self, w: &Workload, cluster: &Cluster) -> Result<EngineOptions, ScenarioError> {
        let ms = |s: Option<f64>| s.and_then(fairway_engine::time::secs_to_millis);
        let class_of = |name: &str| w.job_classes.iter().position(|c| c == name).map(|i| i as u32);
        let mut opts = EngineOptions {
            horizon: ms(self.engine.horizon_s).map(SimTime),
            checkpoint_every: ms(self.engine.checkpoint_every_s).map(SimDuration),
            restart_overhead: SimDuration(ms(self.engine.restart_overhead_s).unwrap_or(0)),
            track_fragmentation: self.engine.fragmentation,
            max_preemptions_per_job: self.engine.max_preemptions_per_job,
            // Debug builds (every test of a scenario run, what-if, sweep or plan) check the
            // engine's invariants after every pass; release builds trust them.
            audit: cfg!(debug_assertions),
            ..EngineOptions::default()
        };
        for c in &self.engine.class {
            if let Some(class) = class_of(&c.name) {
                opts.class_costs.push(fairway_engine::ClassCost {
                    class,
                    checkpoint_every: ms(c.checkpoint_every_s).map(SimDuration),
                    restart_overhead: SimDuration(ms(c.restart_overhead_s).unwrap_or(0)),
                });
            }
        }
        if let Some(p) = &self.engine.speed_matrix {
            for (class, model, speed) in fairway_traces::speeds::read_matrix(&self.base.join(p))? {
                if let (Some(class), Some(model), Some(speed_permille)) = (
                    class_of(&class),
                    cluster.model_id(&model),
                    fairway_traces::cluster::speed_permille(speed),
                ) {
                    opts.class_speed.push(fairway_engine::ClassSpeed {
                        class,
                        model,
                        speed_permille,
                    });
                }
            }
        }
        Ok(opts)
    }

    /// Reads the cluster description (without building it).
    pub fn cluster_spec(&self) -> Result<ClusterSpec, ScenarioError> {
        let c = &self.cluster;
        let mut spec = match &c.path {
            Some(p) => fairway_traces::cluster::read(
                &self.base.join(p),
                c.format.as_deref().and_then(cluster_format),
            )?,
            None => ClusterSpec {
                pools: c
                    .pool
                    .iter()
                    .map(|p| p.to_spec(&format!("{}: cluster.pool", self.file)))
                    .collect::<Result<_, _>>()?,
            },
        };
        if let Some(n) = c.sample_one_in {
            spec = sample_one_in(&spec, n);
        }
        whatif::apply_cluster(&self.whatif, &mut spec, &self.file)
            .map_err(|e| self.whatif_error("whatif", e))?;
        for r in &self.interactive.reserve {
            let key = "interactive.reserve";
            let Some(i) = spec.pools.iter().position(|p| p.name == r.pool) else {
                let names: Vec<&str> = spec.pools.iter().map(|p| p.name.as_str()).collect();
                return Err(self.invalid(key, format!("no pool '{}' (pools: {})", r.pool, names.join(", "))));
            };
            let p = &mut spec.pools[i];
            if r.nodes == 0 || r.nodes > p.nodes || p.interactive_only {
                return Err(self.invalid(
                    key,
                    format!(
                        "pool '{}' has {} nodes to reserve from, asked for {}",
                        r.pool, p.nodes, r.nodes
                    ),
                ));
            }
            p.nodes -= r.nodes;
            let mut kept = p.clone();
            kept.name = format!("{}-interactive", p.name);
            kept.nodes = r.nodes;
            kept.interactive_only = true;
            spec.pools.push(kept);
        }
        spec.pools.retain(|p| p.nodes > 0);
        if let Some(t) = &c.speed_table {
            let table = fairway_traces::speeds::read_table(&self.base.join(t))?;
            for p in &mut spec.pools {
                if p.speed_permille == fairway_engine::cluster::REFERENCE_SPEED
                    && let Some((_, s)) = table.iter().find(|(m, _)| Some(m) == p.gpu_model.as_ref())
                    && let Some(s) = fairway_traces::cluster::speed_permille(*s)
                {
                    p.speed_permille = s;
                }
            }
        }
        Ok(spec)
    }

    /// Reads or generates the trace. Returns the workload and the reader's warnings.
    pub fn workload(&self) -> Result<(Workload, Vec<String>), ScenarioError> {
        let t = &self.trace;
        let (mut w, warnings) = match TraceFormat::parse(&t.format) {
            Some(TraceFormat::Import(f)) => {
                let paths: Vec<PathBuf> = t.path.iter().chain(&t.paths).map(|p| self.base.join(p)).collect();
                let mut opts = fairway_traces::import::Options {
                    max_jobs: self.limits.max_jobs,
                    mapping: t.mapping.clone().unwrap_or_default(),
                    ..fairway_traces::import::Options::default()
                };
                if let Some(g) = &t.gpu_resources {
                    opts.gpu_resources = g.clone();
                }
                let i = match &t.prometheus {
                    Some(p) => {
                        let src = p.source().map_err(|(key, message)| self.invalid(&key, message))?;
                        fairway_traces::import::prometheus::read_url(&src, &opts)?
                    }
                    None => fairway_traces::import::read(&paths, f, &opts)?,
                };
                (i.loaded.workload, i.loaded.warnings)
            }
            Some(f) => {
                let path = self.base.join(t.path.as_ref().expect("checked"));
                let l = fairway_traces::read_with(&path, f, self.limits.max_jobs)?;
                if l.timeless && self.inflation.is_none() {
                    return Err(self.invalid(
                        "trace.path",
                        format!(
                            "{} has no time columns (creation_time, deletion_time, scheduled_time): a pod list without times can only be inflated ([inflation], which ignores time), not replayed",
                            path.display()
                        ),
                    ));
                }
                (l.workload, l.warnings)
            }
            None => {
                let spec = t.synthetic.as_ref().expect("checked");
                if spec.jobs as u64 > self.limits.max_jobs {
                    return Err(self.invalid(
                        "trace.synthetic.jobs",
                        format!(
                            "{} jobs is more than [limits] max_jobs = {}; raise the limit if you mean it",
                            spec.jobs, self.limits.max_jobs
                        ),
                    ));
                }
                let w = fairway_traces::synthetic::generate_with(
                    spec,
                    self.seed,
                    &self.base,
                    self.limits.max_jobs,
                )
                .map_err(|e| match e {
                    // The generator names the setting; the scenario names its file and table.
                    fairway_traces::TraceError::Config { what, message } => {
                        let key = what.strip_prefix("synthetic trace").unwrap_or(&what);
                        let key = key
                            .strip_prefix(": ")
                            .map_or("trace.synthetic".to_string(), |k| format!("trace.synthetic.{k}"));
                        self.invalid(&key, message)
                    }
                    other => other.into(),
                })?;
                (w, Vec::new())
            }
        };
        if let Some(p) = self.interactive.priority {
            for j in w
                .jobs
                .iter_mut()
                .filter(|j| j.kind == fairway_engine::JobKind::Interactive)
            {
                j.priority = p;
            }
        }
        if let Some(s) = t.time_scale {
            for (j, name) in w.jobs.iter_mut().zip(w.names.iter()) {
                let scale = |ms: u64, what: &str| {
                    fairway_engine::time::round_millis(ms as f64 * s).ok_or_else(|| {
                        use fairway_engine::resources::fmt_milli;
                        self.invalid(
                            "trace.time_scale",
                            format!(
                                "{s:?} takes the {what} of job '{name}', {} s, past the limit of {} s (about 285,000 years)",
                                fmt_milli(ms),
                                fmt_milli(fairway_engine::time::MAX_MILLIS)
                            ),
                        )
                    })
                };
                j.submit = SimTime(scale(j.submit.millis(), "submit time")?);
                if let Some(r) = j.recorded_start.get() {
                    j.recorded_start
                        .set(SimTime(scale(r.millis(), "recorded start")?));
                }
            }
        }
        for (i, e) in self.whatif.iter().enumerate() {
            w = whatif::apply_edit(e, i, w, self.seed, self.limits.max_jobs)
                .map_err(|e| self.whatif_error(&format!("whatif[{i}]"), e))?;
        }
        let max_ms = self.limits.max_span_days * 86_400_000.0;
        if let (Some(first), Some(last)) = (w.jobs.first(), w.jobs.last()) {
            let span = last.submit.since(first.submit).millis() as f64;
            if span > max_ms {
                return Err(self.invalid(
                    "limits.max_span_days",
                    format!(
                        "the trace's submissions span {:.0} days, more than the limit of {} (check time_scale, or raise the limit)",
                        span / 86_400_000.0,
                        self.limits.max_span_days
                    ),
                ));
            }
        }
        Ok((w, warnings))
    }

    /// Resolves the policies and placements the scenario names, in `registry`: parameters
    /// checked and Kueue's manifests read and checked, once for every run that shares them.
    pub fn policies(&self, registry: &Registry) -> Result<Policies, ScenarioError> {
        let err = |e| ScenarioError::Registry {
            file: self.file.clone(),
            source: Box::new(e),
        };
        let setup = Setup::with_kueue_edits(whatif::kueue_edits(&self.whatif));
        let policy_spec = self.policy_spec()?;
        let placement_spec = self.placement_spec()?;
        let policy = registry.resolve_policy(&policy_spec, &setup).map_err(err)?;
        let placement = registry.resolve_placement(&placement_spec).map_err(err)?;
        let mut bakeoff = Vec::new();
        if let Some(b) = &self.bakeoff {
            let mut policies = Vec::new();
            for spec in self.specs(&b.policies, "bakeoff.policies")? {
                policies.push(
                    registry
                        .resolve_policy(&spec, &Setup::default())
                        .map_err(|e| self.invalid("bakeoff.policies", e.to_string()))?,
                );
            }
            if policies.is_empty() {
                policies.push(policy.clone());
            }
            let mut placements = Vec::new();
            for spec in self.specs(&b.placements, "bakeoff.placements")? {
                placements.push(
                    registry
                        .resolve_placement(&spec)
                        .map_err(|e| self.invalid("bakeoff.placements", e.to_string()))?,
                );
            }
            if placements.is_empty() {
                placements.push(placement.clone());
            }
            for p in &policies {
                for q in &placements {
                    bakeoff.push((p.clone(), q.clone()));
                }
            }
        }
        let mut inflation = Vec::new();
        if let Some(i) = &self.inflation {
            for spec in self.specs(&i.placements, "inflation.placements")? {
                inflation.push(
                    registry
                        .resolve_placement(&spec)
                        .map_err(|e| self.invalid("inflation.placements", e.to_string()))?,
                );
            }
            if inflation.is_empty() {
                inflation.push(placement.clone());
            }
        }
        Ok(Policies {
            policy,
            placement,
            bakeoff,
            inflation,
        })
    }

    /// What [`Scenario::policies`] reads, as text: two scenarios with the same key resolve to the
    /// same policies.
    pub fn policies_key(&self) -> Result<String, ScenarioError> {
        Ok(format!(
            "{:?}",
            (
                self.policy_spec()?,
                self.placement_spec()?,
                whatif::kueue_edits(&self.whatif),
                &self.bakeoff,
                self.inflation.as_ref().map(|i| &i.placements),
            )
        ))
    }

    /// The run's identity: a digest of the scenario as resolved from its file (every setting,
    /// the seed, the paths) and of the size and modification time of each file it reads. Two
    /// runs with the same digest produce the same outputs; an output folder records the digest
    /// of the run it holds, and a resumed sweep reuses a run only when the digests match.
    pub fn digest(&self) -> String {
        let mut text = format!("{self:?}");
        let files = self.trace.paths.iter().map(Some).chain([
            self.trace.path.as_ref(),
            self.cluster.path.as_ref(),
            self.cluster.speed_table.as_ref(),
            self.engine.speed_matrix.as_ref(),
            self.policy.manifests.as_ref(),
        ]);
        for p in files.flatten() {
            let path = self.base.join(p);
            let stamp = std::fs::metadata(&path).ok().map(|m| {
                let modified = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
                (m.len(), modified.map(|d| d.as_nanos()))
            });
            text.push_str(&format!("|{}:{stamp:?}", path.display()));
        }
        format!("{:016x}", fnv1a(text.as_bytes()))
    }

    /// Reads everything the run needs, with the built-in policies and placements, and checks
    /// that it fits together.
    pub fn resolve(&self) -> Result<Resolved, ScenarioError> {
        self.resolve_using(self.policies(&Registry::builtin())?)
    }

    /// Like [`Scenario::resolve`], with policies already resolved (by [`Scenario::policies`],
    /// for this scenario or one that differs only in what the policies do not read).
    pub fn resolve_using(&self, policies: Policies) -> Result<Resolved, ScenarioError> {
        let cluster_spec = self.cluster_spec()?;
        let mut cluster = Cluster::new(&cluster_spec).map_err(|source| ScenarioError::Cluster {
            file: self.file.clone(),
            source,
        })?;
        let (mut workload, mut warnings) = self.workload()?;
        cluster.bind_selectors(&workload.selectors);
        let manifests = self.policy.manifests.as_ref().map(|m| self.base.join(m));
        warnings.extend(policies.policy.warnings().iter().map(|w| match &manifests {
            Some(m) => format!("{}: {w}", m.display()),
            None => w.clone(),
        }));
        workload.bind_models(&cluster)?;
        let options = self.engine_options(&workload, &cluster)?;
        let outages = self.outages(&workload, &cluster)?;
        Ok(Resolved {
            scenario: self.clone(),
            policies,
            cluster,
            workload,
            warnings,
            options,
            outages,
        })
    }
}

/// The policies and placements a scenario names, resolved once and shared by every run of it
/// (each run builds fresh instances from them).
#[derive(Clone, Debug)]
pub struct Policies {
    pub policy: ResolvedPolicy,
    pub placement: ResolvedPlacement,
    /// `[bakeoff]`: every policy with every placement, policies outermost, in the order listed.
    pub bakeoff: Vec<(ResolvedPolicy, ResolvedPlacement)>,
    /// `[inflation]` placements, in the order listed.
    pub inflation: Vec<ResolvedPlacement>,
}

/// Everything a run needs, read and checked.
#[derive(Debug)]
pub struct Resolved {
    pub scenario: Scenario,
    pub policies: Policies,
    pub cluster: Cluster,
    pub workload: Workload,
    pub warnings: Vec<String>,
    pub options: EngineOptions,
    /// Node outages to inject, in time order.
    pub outages: Vec<fairway_traces::failures::Outage>,
}

impl Resolved {
    /// Jobs that no node of the cluster can ever hold, with the reason (they will be reported as
    /// unschedulable).
    pub fn never_fitting(&self) -> Vec<(usize, String)> {
        self.workload
            .jobs
            .iter()
            .enumerate()
            .filter_map(|(i, j)| {
                self.cluster
                    .check_fits_ever(&j.pod, j.pods, &fairway_engine::Allowed::job(j))
                    .err()
                    .map(|e| (i, e.to_string()))
            })
            .collect()
    }

    /// Runs the workload-inflation experiment, one curve per placement, in the order listed.
    pub fn inflation(&self) -> Result<Vec<inflation::Curve>, ScenarioError> {
        let sc = &self.scenario;
        let Some(cfg) = &sc.inflation else {
            return Err(sc.invalid("inflation", "the scenario has no [inflation] section"));
        };
        let order = inflation::arrival_order(
            &self.workload,
            self.cluster.capacity_gpu_milli(),
            cfg.target,
            sc.seed,
        )
        .map_err(|e| sc.invalid("inflation", e.to_string()))?;
        self.policies
            .inflation
            .iter()
            .map(|p| {
                let mut p = p.build(sc.seed).map_err(|e| self.registry_error(e))?;
                inflation::run(&self.workload, &self.cluster, p.as_mut(), &order)
                    .map_err(|e| sc.invalid("inflation", e.to_string()))
            })
            .collect()
    }

    fn registry_error(&self, e: RegistryError) -> ScenarioError {
        ScenarioError::Registry {
            file: self.scenario.file.clone(),
            source: Box::new(e),
        }
    }

    /// Runs the simulation.
    pub fn run(&self) -> Result<Outcome, ScenarioError> {
        self.run_with(&self.policies.policy, &self.policies.placement)
    }

    /// Runs the simulation, handing its time series to `sink` as the run goes (the outcome's
    /// `series` is then empty) and telling `progress` (jobs arrived, jobs in all) now and then.
    pub fn run_streaming(
        &self,
        sink: &mut dyn SeriesSink,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Outcome, ScenarioError> {
        self.simulate(
            &self.policies.policy,
            &self.policies.placement,
            Some(sink),
            Some(progress),
        )
    }

    /// Runs the simulation under another policy and placement (the scenario's cluster and trace).
    pub fn run_with(
        &self,
        policy: &ResolvedPolicy,
        placement: &ResolvedPlacement,
    ) -> Result<Outcome, ScenarioError> {
        self.simulate(policy, placement, None, None)
    }

    fn simulate<'a>(
        &'a self,
        policy: &ResolvedPolicy,
        placement: &ResolvedPlacement,
        sink: Option<&'a mut dyn SeriesSink>,
        progress: Option<&dyn Fn(usize, usize)>,
    ) -> Result<Outcome, ScenarioError> {
        let seed = self.scenario.seed;
        let policy = policy.build(seed).map_err(|e| self.registry_error(e))?;
        let placement = placement.build(seed).map_err(|e| self.registry_error(e))?;
        let mut sim = Simulation::new(
            &self.workload,
            self.cluster.clone(),
            policy,
            placement,
            self.options.clone(),
        )?;
        for o in &self.outages {
            sim.add_outage(o.node, o.down, o.up);
        }
        if let Some(sink) = sink {
            sim.stream_series(sink);
        }
        let Some(progress) = progress else {
            return sim.run().map_err(|e| self.engine_error(e));
        };
        // The same steps as `run`, with a report every few thousand instants.
        let total = self.workload.jobs.len();
        let mut steps = 0u64;
        while sim.step().map_err(|e| self.engine_error(e))? {
            steps += 1;
            if steps.is_multiple_of(4096) {
                progress(sim.counters().arrivals as usize, total);
            }
        }
        progress(total, total);
        Ok(sim.finish())
    }

    /// An engine error, with what the scenario can do about it: a policy that retries for
    /// ever beside jobs that never end (open-ended) needs a horizon.
    fn engine_error(&self, e: fairway_engine::EngineError) -> ScenarioError {
        let open = self.workload.jobs.iter().filter(|j| j.open_ended).count();
        match e {
            fairway_engine::EngineError::Livelock { .. } if open > 0 && self.options.horizon.is_none() => {
                self.scenario.invalid(
                    "engine.horizon_s",
                    format!(
                        "{e}; {open} job(s) of the trace never end (open-ended) and hold their nodes: set [engine] horizon_s to where the run should stop (the trace's own end is {} s)",
                        fairway_engine::resources::fmt_milli(self.workload.recorded_end().millis())
                    ),
                )
            }
            e => e.into(),
        }
    }
}

pub(crate) fn cluster_format(name: &str) -> Option<ClusterFormat> {
    ClusterFormat::parse(name)
}

/// `name[params]` text plus a TOML parameter table, as one spec.
fn merge_spec(text: &str, table: &BTreeMap<String, toml::Value>) -> Result<Spec, String> {
    let mut spec: Spec = text.parse().map_err(|e: SpecSyntaxError| e.to_string())?;
    for (k, v) in table {
        let p = match v {
            toml::Value::String(s) => Param::Str(s.clone()),
            toml::Value::Integer(i) => Param::Int(*i),
            toml::Value::Float(f) => Param::Float(*f),
            toml::Value::Boolean(b) => Param::Bool(*b),
            other => {
                return Err(format!(
                    "parameter '{k}' must be text, a number or a boolean, not {}",
                    other.type_str()
                ));
            }
        };
        if spec.params.insert(k.clone(), p).is_some() {
            return Err(format!("parameter '{k}' is given twice"));
        }
    }
    Ok(spec)
}

/// Keeps about one node in `n` of the cluster, in proportion per pool: each pool keeps
/// `floor(nodes / n)`, and the remaining nodes up to `round(total / n)` go to the pools with the
/// largest remainders (ties to the earlier pool). Pools left with no node are dropped.
pub fn sample_one_in(spec: &ClusterSpec, n: u32) -> ClusterSpec {
    let n = u64::from(n.max(1));
    let total: u64 = spec.pools.iter().map(|p| u64::from(p.nodes)).sum();
    let target = (total + n / 2) / n;
    let mut kept: Vec<u64> = spec.pools.iter().map(|p| u64::from(p.nodes) / n).collect();
    let mut order: Vec<usize> = (0..spec.pools.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(u64::from(spec.pools[i].nodes) % n), i));
    let mut left = target.saturating_sub(kept.iter().sum());
    for i in order {
        if left == 0 {
            break;
        }
        if u64::from(spec.pools[i].nodes) % n > 0 {
            kept[i] += 1;
            left -= 1;
        }
    }
    ClusterSpec {
        pools: spec
            .pools
            .iter()
            .zip(kept)
            .filter(|(_, k)| *k > 0)
            .map(|(p, k)| fairway_engine::PoolSpec {
                nodes: k as u32,
                ..p.clone()
            })
            .collect(),
    }
}

/// FNV-1a, 64 bits: a stable digest (the same on every machine and toolchain), for identities,
/// not for security.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
