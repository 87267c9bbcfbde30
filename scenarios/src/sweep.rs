//! Sweeps: a scenario file with a `[sweep]` section names scenario keys to vary and seeds; each
//! combination is one run of the scenario with those keys set.
//!
//! ```toml
//! [sweep]
//! seeds = [1, 2, 3]
//! vary = { "cluster.pool.0.nodes" = { from = 4, to = 16, step = 4 }, "policy.name" = ["fifo", "sjf"] }
//! zip = [["policy.name", "policy.placement"]]   # keys that advance together
//! ```
//!
//! Keys are dotted paths into the scenario as written (a number indexes an array). The points are
//! the product of the axes (a zipped group is one axis), axes in key order, the first outermost;
//! every point runs with every seed, seeds innermost. Run numbers follow that order, so results
//! are ordered by run whatever order they finish in.

use crate::{Policies, Scenario, ScenarioError};
use fairway_policies::Registry;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Value;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepSection {
    #[serde(default)]
    seeds: Vec<u64>,
    #[serde(default)]
    vary: BTreeMap<String, Value>,
    #[serde(default)]
    zip: Vec<Vec<String>>,
}

/// One axis: keys that change together, and their values at each step.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub keys: Vec<String>,
    pub steps: Vec<Vec<Value>>,
}

/// One run of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// 0-based, in sweep order.
    pub run: usize,
    pub point: usize,
    pub seed: u64,
    /// (key, value) for every swept key, in axis order.
    pub set: Vec<(String, Value)>,
}

/// A sweep file, read and expanded.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The scenario as written, without `[sweep]`.
    doc: toml::Table,
    file: String,
    base: PathBuf,
    pub axes: Vec<Axis>,
    pub seeds: Vec<u64>,
    pub name: String,
}

fn invalid(file: &str, key: &str, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        file: file.to_string(),
        key: key.to_string(),
        message: message.into(),
    }
}

/// The values of one `vary` entry: a list, or `{ from, to, step }` (inclusive of `to` when a
/// step lands on it).
fn values(file: &str, key: &str, v: &Value) -> Result<Vec<Value>, ScenarioError> {
    match v {
        Value::Array(a) if !a.is_empty() => Ok(a.clone()),
        Value::Table(t) => {
            let num = |k: &str| {
                t.get(k)
                    .and_then(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)))
            };
            let (Some(from), Some(to), Some(step)) = (num("from"), num("to"), num("step")) else {
                return Err(invalid(
                    file,
                    &format!("sweep.vary.{key}"),
                    "a range is { from, to, step }",
                ));
            };
            if !(step > 0.0 && from <= to && (to - from) / step <= 10_000.0) {
                return Err(invalid(
                    file,
                    &format!("sweep.vary.{key}"),
                    "need step > 0, from <= to, at most 10,000 steps",
                ));
            }
            let ints = ["from", "to", "step"]
                .iter()
                .all(|k| t.get(*k).is_some_and(Value::is_integer));
            let n = ((to - from) / step + 1e-9).floor() as usize;
            Ok((0..=n)
                .map(|i| {
                    let x = from + step * i as f64;
                    if ints {
                        Value::Integer(x.round() as i64)
                    } else {
                        Value::Float(x)
                    }
                })
                .collect())
        }
        _ => Err(invalid(
            file,
            &format!("sweep.vary.{key}"),
            "a non-empty list of values or { from, to, step }",
        )),
    }
}

/// Sets a dotted key in a TOML document; the path must exist up to its last part.
fn set(doc: &mut toml::Table, key: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, path) = parts.split_last().ok_or("an empty key")?;
    let mut cur: &mut Value = doc
        .get_mut(parts[0])
        .ok_or_else(|| format!("no '{}' in the scenario", parts[0]))?;
    if path.is_empty() {
        *cur = value;
        return Ok(());
    }
    for p in &path[1..] {
        cur = match cur {
            Value::Table(t) => t
                .get_mut(*p)
                .ok_or_else(|| format!("no '{p}' under the path of '{key}'"))?,
            Value::Array(a) => {
                let i: usize = p
                    .parse()
                    .map_err(|_| format!("'{p}' in '{key}' should index an array"))?;
                a.get_mut(i)
                    .ok_or_else(|| format!("'{key}': index {i} is past the end"))?
            }
            _ => return Err(format!("'{key}': '{p}' is not inside a table or array")),
        };
    }
    match cur {
        Value::Table(t) => {
            t.insert((*last).to_string(), value);
        }
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("'{last}' in '{key}' should index an array"))?;
            *a.get_mut(i)
                .ok_or_else(|| format!("'{key}': index {i} is past the end"))? = value;
        }
        _ => return Err(format!("'{key}' is not inside a table or array")),
    }
    Ok(())
}

/// Whether the TOML file at `path` is a sweep (has a `[sweep]` table) rather than a plain
/// scenario.
pub fn is_sweep_file(path: &Path) -> Result<bool, ScenarioError> {
    let (file, text) = crate::schema::read_file(path)?;
    Ok(table(&text, &file)?.contains_key("sweep"))
}

/// A sweep file's text as a TOML table; `file` names it in errors.
fn table(text: &str, file: &str) -> Result<toml::Table, ScenarioError> {
    fairway_traces::tomlfile::parse(text, file).map_err(|e| ScenarioError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })
}

impl Sweep {
    pub fn load(path: &Path) -> Result<Sweep, ScenarioError> {
        let (file, text) = crate::schema::read_file(path)?;
        let mut doc = table(&text, &file)?;
        let section = doc
            .remove("sweep")
            .ok_or_else(|| invalid(&file, "sweep", "a sweep file needs a [sweep] section"))?;
        let sweep: SweepSection = section
            .try_into()
            .map_err(|e: toml::de::Error| invalid(&file, "sweep", e.message().to_string()))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        // The scenario itself must be valid before anything varies.
        let mut plain = Scenario::parse(&toml::to_string(&doc).expect("a TOML table prints"), &file)?;
        plain.base = base.clone();
        let mut axes: Vec<Axis> = Vec::new();
        let mut zipped: BTreeMap<&str, usize> = BTreeMap::new();
        for (g, group) in sweep.zip.iter().enumerate() {
            for k in group {
                if !sweep.vary.contains_key(k) {
                    return Err(invalid(&file, "sweep.zip", format!("'{k}' is not in sweep.vary")));
                }
                if zipped.insert(k.as_str(), g).is_some() {
                    return Err(invalid(&file, "sweep.zip", format!("'{k}' is in two groups")));
                }
            }
        }
        let mut group_axis: BTreeMap<usize, usize> = BTreeMap::new();
        if sweep.vary.contains_key("seed") {
            return Err(invalid(
                &file,
                "sweep.vary.seed",
                "the seeds are not a swept key: list them as [sweep] seeds = [1, 2, 3], and every point runs with each",
            ));
        }
        for (k, v) in &sweep.vary {
            let vals = values(&file, k, v)?;
            match zipped.get(k.as_str()) {
                Some(&g) => match group_axis.get(&g) {
                    Some(&a) => {
                        let axis: &mut Axis = &mut axes[a];
                        if axis.steps.len() != vals.len() {
                            return Err(invalid(
                                &file,
                                "sweep.zip",
                                format!(
                                    "'{k}' has {} values, '{}' has {}",
                                    vals.len(),
                                    axis.keys[0],
                                    axis.steps.len()
                                ),
                            ));
                        }
                        axis.keys.push(k.clone());
                        for (s, v) in axis.steps.iter_mut().zip(vals) {
                            s.push(v);
                        }
                    }
                    None => {
                        group_axis.insert(g, axes.len());
                        axes.push(Axis {
                            keys: vec![k.clone()],
                            steps: vals.into_iter().map(|v| vec![v]).collect(),
                        });
                    }
                },
                None => axes.push(Axis {
                    keys: vec![k.clone()],
                    steps: vals.into_iter().map(|v| vec![v]).collect(),
                }),
            }
        }
        let seeds = if sweep.seeds.is_empty() {
            vec![plain.seed]
        } else {
            sweep.seeds
        };
        if run_count(&axes, seeds.len()).is_none() {
            let mut values: Vec<String> = axes.iter().map(|a| a.steps.len().to_string()).collect();
            if values.is_empty() {
                values.push("1".into());
            }
            return Err(invalid(
                &file,
                "sweep",
                format!(
                    "{} values x {} seeds is more than the limit of {MAX_RUNS} runs; vary fewer keys or fewer values",
                    values.join(" x "),
                    seeds.len()
                ),
            ));
        }
        let s = Sweep {
            doc,
            file,
            base,
            axes,
            seeds,
            name: plain.name,
        };
        // Every point must make a valid scenario (checked without reading traces).
        for r in s.runs().iter().filter(|r| r.seed == s.seeds[0]) {
            s.scenario(r)?;
        }
        Ok(s)
    }

    /// Every run, in sweep order: at least one, and at most [`MAX_RUNS`] ([`Sweep::load`]
    /// refuses more).
    pub fn runs(&self) -> Vec<Run> {
        let total = run_count(&self.axes, self.seeds.len()).expect("Sweep::load bounds the number of runs");
        let points = total / self.seeds.len();
        let mut out = Vec::with_capacity(total);
        for p in 0..points {
            // Mixed radix, the first axis most significant.
            let mut rest = p;
            let mut idx = vec![0; self.axes.len()];
            for (i, a) in self.axes.iter().enumerate().rev() {
                idx[i] = rest % a.steps.len();
                rest /= a.steps.len();
            }
            let set: Vec<(String, Value)> = self
                .axes
                .iter()
                .zip(&idx)
                .flat_map(|(a, &i)| a.keys.iter().cloned().zip(a.steps[i].iter().cloned()))
                .collect();
            for &seed in &self.seeds {
                out.push(Run {
                    run: out.len(),
                    point: p,
                    seed,
                    set: set.clone(),
                });
            }
        }
        out
    }

    /// The scenario of one run.
    pub fn scenario(&self, run: &Run) -> Result<Scenario, ScenarioError> {
        let mut doc = self.doc.clone();
        for (k, v) in &run.set {
            set(&mut doc, k, v.clone()).map_err(|m| invalid(&self.file, &format!("sweep.vary.{k}"), m))?;
        }
        let what = || {
            run.set
                .iter()
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = Scenario::parse(&toml::to_string(&doc).expect("a TOML table prints"), &self.file)
            .map_err(|e| invalid(&self.file, "sweep", format!("with {}: {e}", what())))?;
        s.base = self.base.clone();
        s.seed = run.seed;
        if s.bakeoff.is_some() || s.inflation.is_some() {
            return Err(invalid(
                &self.file,
                "sweep",
                "a sweep varies a plain scenario, not a bake-off or inflation experiment",
            ));
        }
        Ok(s)
    }

    /// The sweep's identity: a digest of the scenario as written and of what it varies. Shards
    /// of one sweep share it wherever they ran.
    pub fn digest(&self) -> String {
        let text = format!("{:?}|{:?}|{:?}", self.doc, self.axes, self.seeds);
        format!("{:016x}", crate::resolve::fnv1a(text.as_bytes()))
    }

    /// The swept values of a run, as `key = value, ...`.
    pub fn describe(run: &Run) -> String {
        run.set
            .iter()
            .map(|(k, v)| format!("{k} = {}", show(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Resolves the policies of every point in `registry`, once for all points that name the
    /// same ones (Kueue's manifests are read once per distinct configuration), keyed by
    /// [`Scenario::policies_key`].
    pub fn policies(&self, registry: &Registry) -> Result<BTreeMap<String, Policies>, ScenarioError> {
        let mut out = BTreeMap::new();
        for r in self.runs().iter().filter(|r| r.seed == self.seeds[0]) {
            let s = self.scenario(r)?;
            let key = s.policies_key()?;
            if let std::collections::btree_map::Entry::Vacant(slot) = out.entry(key) {
                let p = s
                    .policies(registry)
                    .map_err(|e| invalid(&self.file, "sweep", format!("with {}: {e}", Sweep::describe(r))))?;
                slot.insert(p);
            }
        }
        Ok(out)
    }
}

/// The most runs one sweep may have: each is a whole simulation, and every point is checked
/// when the sweep is loaded.
pub const MAX_RUNS: usize = 1_000_000;

/// Points times seeds, if at least one and at most [`MAX_RUNS`]; `None` otherwise (the product
/// is stopped once past the limit, so it cannot overflow).
fn run_count(axes: &[Axis], seeds: usize) -> Option<usize> {
    let mut n: usize = seeds;
    for a in axes {
        n = n.checked_mul(a.steps.len()).filter(|&n| n <= MAX_RUNS)?;
    }
    (1..=MAX_RUNS).contains(&n).then_some(n)
}

/// A swept value as people read it: text without quotes, numbers as TOML writes them.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name = \"s\"\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 20\n\
        [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 2\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
        [policy]\nname = \"fifo\"\n";

    fn sweep(extra: &str) -> Result<Sweep, ScenarioError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, format!("{BASE}{extra}")).unwrap();
        Sweep::load(&p)
    }

    /// 3 node counts x 2 policies x 2 seeds = 12 runs; the first axis ("cluster...", in key
    /// order) is outermost, seeds innermost.
    #[test]
    fn expansion_counts_and_order() {
        let s = sweep("[sweep]\nseeds = [5, 6]\nvary = { \"cluster.pool.0.nodes\" = { from = 2, to = 6, step = 2 }, \"policy.name\" = [\"fifo\", \"sjf\"] }\n").unwrap();
        let runs = s.runs();
        assert_eq!(runs.len(), 12);
        let brief: Vec<(usize, String, String, u64)> = runs
            .iter()
            .map(|r| (r.point, r.set[0].1.to_string(), r.set[1].1.to_string(), r.seed))
            .collect();
        assert_eq!(brief[0], (0, "2".into(), "\"fifo\"".into(), 5));
        assert_eq!(brief[1], (0, "2".into(), "\"fifo\"".into(), 6));
        assert_eq!(brief[2], (1, "2".into(), "\"sjf\"".into(), 5));
        assert_eq!(brief[11], (5, "6".into(), "\"sjf\"".into(), 6));
        let sc = s.scenario(&runs[11]).unwrap();
        assert_eq!((sc.seed, sc.policy.name.as_str()), (6, "sjf"));
        assert_eq!(sc.cluster.pool[0].nodes, 6);
    }

    /// Zipped keys advance together: 2 points, not 4.
    #[test]
    fn zip_pairs_values() {
        let s = sweep("[sweep]\nvary = { \"policy.name\" = [\"fifo\", \"sjf\"], \"policy.placement\" = [\"first-fit\", \"spread\"] }\nzip = [[\"policy.name\", \"policy.placement\"]]\n").unwrap();
        let runs = s.runs();
        assert_eq!(runs.len(), 2);
        let sc = s.scenario(&runs[1]).unwrap();
        assert_eq!(
            (sc.policy.name.as_str(), sc.policy.placement.as_str()),
            ("sjf", "spread")
        );
        let e = sweep("[sweep]\nvary = { \"policy.name\" = [\"fifo\"], \"policy.placement\" = [\"first-fit\", \"spread\"] }\nzip = [[\"policy.name\", \"policy.placement\"]]\n").unwrap_err();
        assert!(e.to_string().contains("has 2 values"), "{e}");
        let e = sweep("[sweep]\nvary = { \"policy.nam\" = [\"fifo\"] }\n").unwrap_err();
        assert!(
            e.to_string().contains("with policy.nam = fifo") && e.to_string().contains("unknown field `nam`"),
            "{e}"
        );
        let e = sweep("[sweep]\nvary = { \"policy.name\" = [\"fofo\"] }\n")
            .unwrap()
            .policies(&Registry::builtin())
            .unwrap_err();
        assert!(e.to_string().contains("unknown policy 'fofo'"), "{e}");
    }
}
