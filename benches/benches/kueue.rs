//! Kueue admission throughput: 50 ClusterQueues in 5 cohorts, 100 k workloads arriving within a
//! few minutes, so that queues hold tens of thousands of pending workloads while quota turns over.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fairway_benches::cluster;
use fairway_engine::{EngineOptions, Simulation};
use std::hint::black_box;
use std::io::Write;

/// 5 cohorts x 10 queues; each queue has 4 GPUs, 64 CPUs and 512 GiB of nominal quota, and may
/// borrow within its cohort. Queues are named after the synthetic trace's teams.
fn manifests(teams: &[String]) -> String {
    let mut y =
        String::from("apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: h100\n");
    for (i, t) in teams.iter().enumerate() {
        y.push_str(&format!(
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {t}\nspec:\n  namespaceSelector: {{}}\n  cohortName: cohort-{}\n  preemption:\n    reclaimWithinCohort: Any\n    withinClusterQueue: LowerPriority\n  resourceGroups:\n  - coveredResources: [\"cpu\", \"memory\", \"nvidia.com/gpu\"]\n    flavors:\n    - name: h100\n      resources:\n      - name: cpu\n        nominalQuota: 64\n      - name: memory\n        nominalQuota: 512Gi\n      - name: nvidia.com/gpu\n        nominalQuota: 4\n",
            i / 10
        ));
    }
    y
}

fn admission(c: &mut Criterion) {
    let jobs = 100_000;
    let mut spec = fairway_traces::SyntheticSpec::with_jobs(jobs);
    spec.teams = (0..50)
        .map(|i| fairway_traces::synthetic::TeamShare {
            name: format!("q{i:02}"),
            weight: 1.0,
            priority: i % 3,
        })
        .collect();
    spec.arrivals = fairway_traces::synthetic::Arrivals::Poisson {
        per_hour: 1_000_000.0,
    };
    spec.shapes = vec![fairway_traces::synthetic::Shape {
        gpus: 1.0,
        pods: 1,
        weight: 1.0,
    }];
    spec.cpu_per_gpu = 8.0;
    spec.memory_gib_per_gpu = 64.0;
    spec.duration = fairway_traces::synthetic::Durations::Lognormal {
        median_s: 600.0,
        sigma: 1.0,
        max_s: None,
    };
    let w = fairway_traces::synthetic::generate(&spec, 3, std::path::Path::new(".")).expect("valid");
    // 25 nodes x 8 GPUs = 200 GPUs for 200 GPUs of quota: quota is what limits admission.
    let cl = cluster(25);
    let path = std::env::temp_dir().join(format!("fairway-bench-kueue-{}.yaml", std::process::id()));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(manifests(&w.teams).as_bytes())
        .unwrap();
    let text = format!("kueue[manifests={}]", path.display());
    let mut g = c.benchmark_group("kueue/50-cqs-5-cohorts");
    g.sample_size(10);
    g.throughput(Throughput::Elements(jobs as u64));
    g.bench_function("100k-workloads", |b| {
        b.iter(|| {
            let p = fairway_policies::policy(&text.parse().unwrap(), 1).unwrap();
            let pl = fairway_policies::placement(&"best-fit".parse().unwrap(), 1).unwrap();
            let o = Simulation::new(&w, cl.clone(), p, pl, EngineOptions::default())
                .unwrap()
                .run()
                .unwrap();
            black_box(o.counters.starts)
        })
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, admission);
criterion_main!(benches);
