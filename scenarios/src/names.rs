//! The names a user may call a team by: the team itself, a LocalQueue its jobs are submitted to
//! (the trace's `queue` column), or the queue the policy sorts them into (a Kueue ClusterQueue).
//! A Kueue user thinks in ClusterQueues; the run's figures are per team.

use crate::resolve::Resolved;
use crate::study::StudyError;
use std::collections::{BTreeMap, BTreeSet};

/// The teams of a resolved scenario and the queue names that lead to them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TeamNames {
    teams: BTreeSet<String>,
    /// LocalQueue name -> the teams of the jobs submitted to it.
    local: BTreeMap<String, BTreeSet<String>>,
    /// The policy's queue (ClusterQueue) -> the teams of the jobs it holds.
    cluster: BTreeMap<String, BTreeSet<String>>,
}

impl TeamNames {
    /// Reads the names of `r`; the policy is prepared once (without running) to learn which
    /// queue each job lands in.
    pub fn of(r: &Resolved) -> Result<TeamNames, StudyError> {
        let w = &r.workload;
        let mut names = TeamNames {
            teams: w.teams.iter().cloned().collect(),
            ..TeamNames::default()
        };
        let team = |j: &fairway_engine::JobSpec| w.teams[j.team.0 as usize].clone();
        for j in &w.jobs {
            if let Some(q) = j.queue.and_then(|q| w.queues.get(q as usize)) {
                names.local.entry(q.clone()).or_default().insert(team(j));
            }
        }
        let setup = |source| crate::ScenarioError::Registry {
            file: r.scenario.file.clone(),
            source: Box::new(source),
        };
        let mut policy = r.policies.policy.build(r.scenario.seed).map_err(setup)?;
        policy.prepare(w, &r.cluster).map_err(|source| {
            crate::ScenarioError::Engine(fairway_engine::EngineError::PolicySetup {
                policy: policy.label(),
                source,
            })
        })?;
        if let Some(report) = policy.queues(w) {
            for (j, &q) in w.jobs.iter().zip(&report.job_queue) {
                if let Some(q) = report.queues.get(q as usize) {
                    names.cluster.entry(q.name.clone()).or_default().insert(team(j));
                }
            }
            for q in &report.queues {
                names.cluster.entry(q.name.clone()).or_default();
            }
        }
        Ok(names)
    }

    /// The team `name` means: a team of that name, else the one team of a LocalQueue, else of a
    /// ClusterQueue of that name. An unknown name, or a queue of no team or of several, is an
    /// error that lists what the run knows.
    pub fn team(&self, name: &str) -> Result<String, String> {
        if self.teams.contains(name) {
            return Ok(name.to_string());
        }
        for (kind, map) in [("LocalQueue", &self.local), ("ClusterQueue", &self.cluster)] {
            if let Some(teams) = map.get(name) {
                let list = || teams.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
                return match teams.len() {
                    1 => Ok(teams.first().cloned().unwrap_or_default()),
                    0 => Err(format!("{kind} '{name}' holds no job of the trace")),
                    _ => Err(format!(
                        "{kind} '{name}' holds the jobs of several teams ({}): name one of them",
                        list()
                    )),
                };
            }
        }
        let join = |it: &mut dyn Iterator<Item = &String>| {
            let v: Vec<&str> = it.map(String::as_str).collect();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        let mut why = format!(
            "the run has no team or queue '{name}' (teams: {}",
            join(&mut self.teams.iter())
        );
        if !self.local.is_empty() {
            why += &format!("; LocalQueues: {}", join(&mut self.local.keys()));
        }
        if !self.cluster.is_empty() {
            why += &format!("; ClusterQueues: {}", join(&mut self.cluster.keys()));
        }
        why.push(')');
        Err(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> TeamNames {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
        TeamNames {
            teams: set(&["LS", "BE", "ml"]),
            local: [
                ("lq-ls".to_string(), set(&["LS"])),
                ("shared".to_string(), set(&["BE", "ml"])),
            ]
            .into(),
            cluster: [("ls".to_string(), set(&["LS"])), ("idle".to_string(), set(&[]))].into(),
        }
    }

    #[test]
    fn a_team_a_local_queue_or_a_cluster_queue_names_a_team() {
        let n = names();
        assert_eq!(n.team("LS").unwrap(), "LS");
        assert_eq!(n.team("lq-ls").unwrap(), "LS");
        assert_eq!(n.team("ls").unwrap(), "LS");
    }

    #[test]
    fn unknown_shared_and_empty_queues_are_errors_that_say_what_is_known() {
        let n = names();
        assert_eq!(
            n.team("nope").unwrap_err(),
            "the run has no team or queue 'nope' (teams: BE, LS, ml; LocalQueues: lq-ls, shared; ClusterQueues: idle, ls)"
        );
        assert!(n.team("shared").unwrap_err().contains("several teams (BE, ml)"));
        assert!(n.team("idle").unwrap_err().contains("holds no job"));
        // Names are exact: case matters, as in Kubernetes.
        assert!(n.team("Ls").is_err());
    }
}
