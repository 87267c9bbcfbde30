//! The checks of a scenario that need no other file: run when it is loaded.

use crate::error::ScenarioError;
use crate::resolve::cluster_format;
use crate::schema::Scenario;
use fairway_traces::TraceFormat;

impl Scenario {
    /// Checks what can be checked without reading other files.
    pub(crate) fn check(&self) -> Result<(), ScenarioError> {
        for (i, w) in self.whatif.iter().enumerate() {
            w.check()
                .map_err(|e| self.whatif_error(&format!("whatif[{i}]"), e))?;
        }
        if let Some(b) = &self.bakeoff {
            if b.policies.is_empty() && b.placements.is_empty() {
                return Err(self.invalid("bakeoff", "name at least one policy or placement"));
            }
            self.specs(&b.placements, "bakeoff.placements")?;
            if self
                .specs(&b.policies, "bakeoff.policies")?
                .iter()
                .any(|s| s.name == "kueue")
            {
                return Err(self.invalid(
                    "bakeoff.policies",
                    "kueue needs its manifests: give it as [policy]",
                ));
            }
            if self.inflation.is_some() {
                return Err(self.invalid(
                    "bakeoff",
                    "a scenario is a bake-off or an inflation experiment, not both",
                ));
            }
        }
        if let Some(t) = self.interactive.target_start_s
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(self.invalid("interactive.target_start_s", "must be a number of seconds >= 0"));
        }
        if let Some(i) = &self.inflation {
            if !(i.target.is_finite() && i.target > 0.0 && i.target <= 100.0) {
                return Err(self.invalid(
                    "inflation.target",
                    "must be a fraction of GPU capacity, > 0 and at most 100",
                ));
            }
            self.specs(&i.placements, "inflation.placements")?;
        }
        if self.name.trim().is_empty() || self.name.contains(['/', '\\']) || self.name.starts_with('.') {
            return Err(self.invalid(
                "name",
                "must be non-empty, without '/' or '\\', not starting with '.'",
            ));
        }
        let t = &self.trace;
        match t.format.as_str() {
            "synthetic" => {
                if t.synthetic.is_none() {
                    return Err(self.invalid("trace", "format 'synthetic' needs a [trace.synthetic] table"));
                }
                if t.path.is_some() || !t.paths.is_empty() {
                    return Err(self.invalid("trace.path", "a synthetic trace has no file"));
                }
            }
            f if TraceFormat::parse(f).is_some() => {
                let import = matches!(TraceFormat::parse(f), Some(TraceFormat::Import(_)));
                if let Some(p) = &t.prometheus {
                    if f != "prometheus" {
                        return Err(self.invalid(
                            "trace.prometheus",
                            format!("only for format 'prometheus', not '{f}'"),
                        ));
                    }
                    if t.path.is_some() || !t.paths.is_empty() {
                        return Err(self.invalid(
                            "trace.prometheus",
                            "read files (path, paths) or query a Prometheus, not both",
                        ));
                    }
                    p.source().map_err(|(key, message)| self.invalid(&key, message))?;
                }
                match (&t.path, t.paths.is_empty()) {
                    (None, true) if t.prometheus.is_some() => {}
                    (None, true) => {
                        return Err(
                            self.invalid("trace.path", format!("format '{f}' needs the trace file's path"))
                        );
                    }
                    (Some(_), false) => {
                        return Err(self.invalid("trace.paths", "give path or paths, not both"));
                    }
                    (None, false) if !import => {
                        return Err(
                            self.invalid("trace.paths", format!("format '{f}' reads one file: give path"))
                        );
                    }
                    _ => {}
                }
                if !import {
                    for (key, set) in [
                        ("trace.mapping", t.mapping.is_some()),
                        ("trace.gpu_resources", t.gpu_resources.is_some()),
                    ] {
                        if set {
                            return Err(self.invalid(key, format!("only for imported formats, not '{f}'")));
                        }
                    }
                }
                if let Some(m) = &t.mapping {
                    m.check().map_err(|e| self.invalid("trace.mapping", e))?;
                }
                if let Some(g) = &t.gpu_resources
                    && (g.is_empty() || g.iter().any(|r| r.trim().is_empty()))
                {
                    return Err(self.invalid(
                        "trace.gpu_resources",
                        "give at least one resource name, none empty",
                    ));
                }
                if t.synthetic.is_some() {
                    return Err(self.invalid(
                        "trace.synthetic",
                        format!("only for format 'synthetic', not '{f}'"),
                    ));
                }
            }
            other => {
                return Err(self.invalid(
                    "trace.format",
                    format!(
                        "unknown format '{other}'; known: {}, synthetic",
                        TraceFormat::names().join(", ")
                    ),
                ));
            }
        }
        if let Some(s) = t.time_scale
            && !(s.is_finite() && s > 0.0)
        {
            return Err(self.invalid("trace.time_scale", format!("must be a number > 0, found {s}")));
        }
        let c = &self.cluster;
        match (&c.path, c.pool.is_empty()) {
            (None, true) => {
                return Err(self.invalid("cluster", "give either path = \"...\" or [[cluster.pool]] tables"));
            }
            (Some(_), false) => {
                return Err(self.invalid("cluster", "give either path or [[cluster.pool]], not both"));
            }
            _ => {}
        }
        if let Some(f) = &c.format {
            if c.path.is_none() {
                return Err(self.invalid("cluster.format", "only with cluster.path"));
            }
            cluster_format(f).ok_or_else(|| {
                self.invalid(
                    "cluster.format",
                    format!(
                        "unknown format '{f}'; known: {}",
                        fairway_traces::ClusterFormat::NAMES.join(", ")
                    ),
                )
            })?;
        }
        let f = &self.failures;
        if f.mtbf_h.is_some() != f.mttr_h.is_some() {
            return Err(self.invalid("failures", "mtbf_h and mttr_h go together"));
        }
        for (key, v, secs, unit) in [
            ("failures.mtbf_h", f.mtbf_h, 3600.0, "h"),
            ("failures.mttr_h", f.mttr_h, 3600.0, "h"),
            ("failures.until_s", f.until_s, 1.0, "s"),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(self.invalid(key, format!("must be a number > 0, found {v}")));
                }
                if fairway_engine::time::secs_to_millis(v * secs).is_none() {
                    return Err(self.invalid(key, past_limit(v, unit)));
                }
            }
        }
        for (i, o) in f.schedule.iter().enumerate() {
            let bad = |m: &str| self.invalid(&format!("failures.schedule[{i}]"), m.to_string());
            if fairway_engine::time::secs_to_millis(o.down_s).is_none() {
                return Err(bad("down_s must be a number of seconds >= 0"));
            }
            if let Some(u) = o.up_s
                && (fairway_engine::time::secs_to_millis(u).is_none() || u <= o.down_s)
            {
                return Err(bad("up_s must come after down_s"));
            }
        }
        if c.sample_one_in == Some(0) {
            return Err(self.invalid("cluster.sample_one_in", "must be at least 1"));
        }
        let e = &self.engine;
        let mut checks = vec![
            ("engine.horizon_s".to_string(), e.horizon_s, false),
            (
                "engine.checkpoint_every_s".to_string(),
                e.checkpoint_every_s,
                true,
            ),
            (
                "engine.restart_overhead_s".to_string(),
                e.restart_overhead_s,
                false,
            ),
        ];
        for c in &e.class {
            checks.push((
                format!("engine.class '{}' checkpoint_every_s", c.name),
                c.checkpoint_every_s,
                true,
            ));
            checks.push((
                format!("engine.class '{}' restart_overhead_s", c.name),
                c.restart_overhead_s,
                false,
            ));
        }
        for (key, v, positive) in checks {
            let key = key.as_str();
            if let Some(v) = v
                && (fairway_engine::time::secs_to_millis(v).is_none() || (positive && v < 0.001))
            {
                if v.is_finite() && v > 0.0 && fairway_engine::time::secs_to_millis(v).is_none() {
                    return Err(self.invalid(key, past_limit(v, "s")));
                }
                let want = if positive { "> 0" } else { ">= 0" };
                return Err(self.invalid(key, format!("must be a number of seconds {want}, found {v}")));
            }
        }
        let l = &self.limits;
        if l.max_jobs == 0 {
            return Err(self.invalid("limits.max_jobs", "must be at least 1"));
        }
        if !(l.max_span_days.is_finite() && l.max_span_days > 0.0) {
            return Err(self.invalid(
                "limits.max_span_days",
                format!("must be a number of days > 0, found {}", l.max_span_days),
            ));
        }
        if let Some(h) = e.horizon_s
            && h > l.max_span_days * 86_400.0
        {
            return Err(self.invalid(
                "engine.horizon_s",
                format!(
                    "{h} s is more than [limits] max_span_days = {}; raise the limit if you mean it",
                    l.max_span_days
                ),
            ));
        }
        self.policy_spec()?;
        self.placement_spec()?;
        Ok(())
    }
}

/// The message for a time `v` (in `unit`) past the longest time the engine takes.
fn past_limit(v: f64, unit: &str) -> String {
    format!(
        "{v:e} {unit} is past the longest time the engine takes, {} s (about 285,000 years)",
        fairway_engine::resources::fmt_milli(fairway_engine::time::MAX_MILLIS)
    )
}
