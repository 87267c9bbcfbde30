//! Mapping rules: patterns on a job's namespace, name, labels and annotations that set its
//! team, queue, priority and kind, as an admission webhook or policy engine would on a real
//! cluster. Every importer applies them, in one place ([`super::build`]).
//!
//! Rules apply in order, and every rule that matches sets what it names: a later rule
//! overrides an earlier one. A value may quote the job's own fields: `{namespace}`, `{name}`,
//! `{user}`, `{queue}`, `{team}`, `{flavor}` (the ResourceFlavor Kueue admitted a Workload's
//! GPUs on), `{label:KEY}`, `{annotation:KEY}`.

use super::Record;
use fairway_engine::JobKind;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The rules of a `[trace.mapping]` section, or of a mapping file given to `trace import`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One rule: what it matches (all given conditions must hold; `*` matches any run of
/// characters, `?` one) and what it sets.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    /// Matched against the queue the trace gave (before this rule sets one).
    #[serde(default)]
    pub queue_is: Option<String>,
    /// Matched against the ResourceFlavor a Workload was admitted on.
    #[serde(default)]
    pub flavor: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// What the rule sets.
    #[serde(default)]
    pub set: Set,
}

/// The fields a rule sets.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Set {
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub queue: Option<String>,
    /// A whole number or a priority class name.
    #[serde(default)]
    pub priority: Option<String>,
    /// `batch` or `interactive`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The GPU models the job may run on (`A100|H100`), as the cluster names them.
    #[serde(default)]
    pub gpu_model: Option<String>,
}

impl Mapping {
    /// Checks the rules once, before any record: kinds and placeholders. The error names the
    /// rule (from 1) and the field.
    pub fn check(&self) -> Result<(), String> {
        for (i, r) in self.rules.iter().enumerate() {
            let at = |f: &str, m: String| format!("rule {}: {f}: {m}", i + 1);
            if let Some(k) = &r.set.kind
                && !matches!(k.as_str(), "batch" | "interactive")
            {
                return Err(at(
                    "set.kind",
                    format!("expected 'batch' or 'interactive', found '{k}'"),
                ));
            }
            for (f, v) in [
                ("set.team", &r.set.team),
                ("set.queue", &r.set.queue),
                ("set.priority", &r.set.priority),
                ("set.gpu_model", &r.set.gpu_model),
            ] {
                if let Some(v) = v {
                    check_template(v).map_err(|m| at(f, m))?;
                    if v.is_empty() {
                        return Err(at(f, "must not be empty".into()));
                    }
                }
            }
            if r.set == Set::default() {
                return Err(at(
                    "set",
                    "the rule sets nothing (give team, queue, priority, kind or gpu_model)".into(),
                ));
            }
        }
        Ok(())
    }

    /// Applies every matching rule to `r`, in order.
    pub fn apply(&self, r: &mut Record) {
        for rule in &self.rules {
            if !rule.matches(r) {
                continue;
            }
            let s = &rule.set;
            let team = s.team.as_ref().map(|t| fill(t, r));
            let queue = s.queue.as_ref().map(|t| fill(t, r));
            let priority = s.priority.as_ref().map(|t| fill(t, r));
            if let Some(t) = team {
                r.team = Some(t);
            }
            if let Some(q) = queue {
                r.queue = Some(q);
            }
            if let Some(p) = priority {
                r.priority = Some(p);
            }
            if let Some(m) = s.gpu_model.as_ref().map(|t| fill(t, r)) {
                r.gpu_model = Some(m);
            }
            if let Some(k) = &s.kind {
                r.kind = Some(if k == "interactive" {
                    JobKind::Interactive
                } else {
                    JobKind::Batch
                });
            }
        }
    }
}

impl Rule {
    fn matches(&self, r: &Record) -> bool {
        let field = |pat: &Option<String>, value: Option<&str>| match pat {
            None => true,
            Some(p) => value.is_some_and(|v| glob(p, v)),
        };
        field(&self.namespace, r.namespace.as_deref())
            && field(&self.name, Some(&r.name))
            && field(&self.user, r.user.as_deref())
            && field(&self.queue_is, r.queue.as_deref())
            && field(&self.flavor, r.flavor.as_deref())
            && self
                .labels
                .iter()
                .all(|(k, p)| r.labels.get(k).is_some_and(|v| glob(p, v)))
            && self
                .annotations
                .iter()
                .all(|(k, p)| r.annotations.get(k).is_some_and(|v| glob(p, v)))
    }
}

/// `*` any run of characters (also none), `?` exactly one; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // The classic greedy match with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

const PLACEHOLDERS: &[&str] = &["namespace", "name", "user", "queue", "team", "flavor"];

fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("'{{' without '}}' in '{t}'"));
        };
        let key = &rest[open + 1..open + close];
        let known = PLACEHOLDERS.contains(&key)
            || key.strip_prefix("label:").is_some_and(|k| !k.is_empty())
            || key.strip_prefix("annotation:").is_some_and(|k| !k.is_empty());
        if !known {
            return Err(format!(
                "unknown placeholder '{{{key}}}' (known: {}, label:KEY, annotation:KEY)",
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

/// The template with its placeholders filled from `r` (empty where the job has no such value).
fn fill(t: &str, r: &Record) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let key = &rest[open + 1..close.min(rest.len())];
        let v = match key {
            "namespace" => r.namespace.clone(),
            "name" => Some(r.name.clone()),
            "user" => r.user.clone(),
            "queue" => r.queue.clone(),
            "team" => r.team.clone(),
            "flavor" => r.flavor.clone(),
            k => k
                .strip_prefix("label:")
                .and_then(|l| r.labels.get(l).cloned())
                .or_else(|| {
                    k.strip_prefix("annotation:")
                        .and_then(|a| r.annotations.get(a).cloned())
                }),
        };
        out.push_str(v.as_deref().unwrap_or(""));
        rest = rest.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        let mut r = Record::new("f: pod".into(), "train-1".into(), 0);
        r.namespace = Some("ml-vision".into());
        r.labels.insert("app".into(), "coder".into());
        r.labels.insert("team".into(), "vision".into());
        r
    }

    fn rules(toml_text: &str) -> Mapping {
        let m: Mapping = toml::from_str(toml_text).unwrap();
        m.check().unwrap();
        m
    }

    #[test]
    fn globs() {
        for (p, t, want) in [
            ("*", "", true),
            ("ml-*", "ml-vision", true),
            ("ml-*", "xml-vision", false),
            ("*-vision", "ml-vision", true),
            ("m?-*n", "ml-vision", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("", "", true),
            ("", "a", false),
        ] {
            assert_eq!(glob(p, t), want, "{p} ~ {t}");
        }
    }

    #[test]
    fn matching_rules_apply_in_order_and_fill_placeholders() {
        let m = rules(
            r#"
            [[rules]]
            namespace = "ml-*"
            set = { team = "{label:team}", queue = "{namespace}/main" }
            [[rules]]
            labels = { app = "coder" }
            set = { kind = "interactive", priority = "dev" }
            [[rules]]
            namespace = "other"
            set = { team = "never" }
            "#,
        );
        let mut r = record();
        m.apply(&mut r);
        assert_eq!(r.team.as_deref(), Some("vision"));
        assert_eq!(r.queue.as_deref(), Some("ml-vision/main"));
        assert_eq!(r.kind, Some(JobKind::Interactive));
        assert_eq!(r.priority.as_deref(), Some("dev"));
    }

    #[test]
    fn bad_rules_are_named() {
        let m: Mapping = toml::from_str("[[rules]]\nset = { kind = \"service\" }").unwrap();
        assert!(m.check().unwrap_err().starts_with("rule 1: set.kind"));
        let m: Mapping = toml::from_str("[[rules]]\nset = { team = \"{label}\" }").unwrap();
        assert!(m.check().unwrap_err().contains("unknown placeholder '{label}'"));
        let m: Mapping = toml::from_str("[[rules]]\nnamespace = \"a\"").unwrap();
        assert!(m.check().unwrap_err().contains("sets nothing"));
        assert!(toml::from_str::<Mapping>("[[rules]]\nnamespce = \"a\"").is_err());
    }
}
