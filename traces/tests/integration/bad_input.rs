//! A catalogue of broken trace and cluster files: each gives its precise error, none panics.

use fairway_engine::{Cluster, ClusterSpec, PoolSpec};
use fairway_traces::{TraceFormat, cluster, read};
use std::io::Write;

/// Writes `text` to a fresh file named `name` and returns (dir guard, path).
fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    (dir, path)
}

/// The error of reading `text` as a canonical trace, with the temp folder cut off.
fn canonical_err(text: &str) -> String {
    let (dir, path) = file("t.csv", text);
    let e = read(&path, TraceFormat::Canonical).unwrap_err().to_string();
    e.replace(&format!("{}/", dir.path().display()), "")
}

const HEAD: &str = "job_id,submit_time,duration,gpus,team\n";

#[test]
fn broken_canonical_traces_name_file_line_and_column() {
    let cases: &[(&str, &str)] = &[
        ("", "t.csv: the file is empty: expected a header row"),
        (HEAD, "t.csv: the trace has a header but no jobs"),
        (
            "job_id,submit_time,gpus,team\na,0,1,x\n",
            "t.csv: missing required column 'duration' (the header has: job_id, submit_time, gpus, team)",
        ),
        (
            "a,0,10,1,x\nb,5,-5,1,x\n",
            "t.csv:3: column 'duration': expected a number of seconds >= 0, found '-5'",
        ),
        (
            "a,soon,10,1,x\n",
            "t.csv:2: column 'submit_time': expected a number, found 'soon'",
        ),
        (
            "a,-1,10,1,x\n",
            "t.csv:2: column 'submit_time': expected a number of seconds >= 0, found '-1'",
        ),
        (
            "a,0,10,1,x\na,1,10,1,x\n",
            "t.csv:3: column 'job_id': duplicate job_id 'a' (first on line 2)",
        ),
        (
            "a,0,10,1.5,x\n",
            "t.csv:2: column 'gpus': a pod asks for either a whole number of GPUs or a share of one GPU (0 < x < 1), found '1.5'",
        ),
        (
            "a,0,10,0.0001,x\n",
            "t.csv:2: column 'gpus': GPU shares are counted to the milli-GPU (0.001), found '0.0001'",
        ),
        (
            "a,0,10,-1,x\n",
            "t.csv:2: column 'gpus': expected a number of GPUs >= 0, found '-1'",
        ),
        ("a,0,10,1,\n", "t.csv:2: column 'team': must not be empty"),
        (
            "a,0,10,1,x,extra\n",
            "t.csv:2: the row has 6 fields but the header has 5",
        ),
        (",0,10,1,x\n", "t.csv:2: column 'job_id': must not be empty"),
        (
            "a,0,NaN,1,x\n",
            "t.csv:2: column 'duration': expected a number, found 'NaN'",
        ),
    ];
    for (body, want) in cases {
        let text = if body.starts_with("job_id") || body.is_empty() || *body == HEAD {
            body.to_string()
        } else {
            format!("{HEAD}{body}")
        };
        assert_eq!(canonical_err(&text), *want, "input:\n{text}");
    }
}

/// A CRLF file (as Excel exports) with a bad field on line 3 names line 3, as the LF file does.
#[test]
fn a_crlf_trace_names_the_true_line() {
    let lf = format!("{HEAD}a,0,10,1,x\nb,5,-5,1,x\n");
    let want = "t.csv:3: column 'duration': expected a number of seconds >= 0, found '-5'";
    assert_eq!(canonical_err(&lf), want);
    assert_eq!(canonical_err(&lf.replace('\n', "\r\n")), want);
}

/// The same broken rows with CRLF line ends (as Excel writes them), lone CRs, and blank lines
/// before them: every error names the true line, as in the LF file.
#[test]
fn line_numbers_are_true_whatever_the_line_ends() {
    let rows = ["a,0,10,1,x", "b,5,10,1,x", "c,7,-5,1,x", "d,9,10,1,x"];
    for end in ["\n", "\r\n", "\r"] {
        let text = format!("{}{end}{}{end}", HEAD.trim_end(), rows.join(end));
        assert_eq!(
            canonical_err(&text),
            "t.csv:4: column 'duration': expected a number of seconds >= 0, found '-5'",
            "line ends {end:?}"
        );
        // Two blank lines before the bad row, and a quoted field across two lines before them.
        let text = format!(
            "{}{end}\"a{end}a\",0,10,1,x{end}b,5,10,1,x{end}{end}{end}c,7,-5,1,x{end}",
            HEAD.trim_end()
        );
        assert_eq!(
            canonical_err(&text),
            "t.csv:7: column 'duration': expected a number of seconds >= 0, found '-5'",
            "line ends {end:?}"
        );
        // A row of the wrong length, and a duplicate id whose first line is named.
        let text = format!("{}{end}a,0,10,1,x{end}b,0,10,1,x,9{end}", HEAD.trim_end());
        assert_eq!(
            canonical_err(&text),
            "t.csv:3: the row has 6 fields but the header has 5",
            "line ends {end:?}"
        );
        let text = format!("{}{end}a,0,10,1,x{end}{end}a,0,10,1,x{end}", HEAD.trim_end());
        assert_eq!(
            canonical_err(&text),
            "t.csv:4: column 'job_id': duplicate job_id 'a' (first on line 2)",
            "line ends {end:?}"
        );
    }
}

/// Lines stay exact past the reader's buffer and the counter's own compaction.
#[test]
fn line_numbers_are_exact_in_a_long_crlf_file() {
    let mut text = String::from("job_id,submit_time,duration,gpus,team\r\n");
    for i in 0..30_000 {
        text += &format!("job-{i},{i},10,1,team-with-a-long-name\r\n");
    }
    text += "bad,1,10,1,\r\n";
    assert_eq!(
        canonical_err(&text),
        "t.csv:30002: column 'team': must not be empty"
    );
}

#[test]
fn broken_optional_columns() {
    let head = "job_id,submit_time,duration,gpus,team,pods,gpu_util,kind,priority,gpu_model,recorded_start\n";
    let cases: &[(&str, &str)] = &[
        (
            "a,0,10,1,x,0,,,,,\n",
            "t.csv:2: column 'pods': expected a whole number >= 1, found '0'",
        ),
        (
            "a,0,10,1,x,two,,,,,\n",
            "t.csv:2: column 'pods': expected a whole number, found 'two'",
        ),
        (
            "a,0,10,1,x,1,1.5,,,,\n",
            "t.csv:2: column 'gpu_util': expected a fraction between 0 and 1, found '1.5'",
        ),
        (
            "a,0,10,1,x,1,,train,,,\n",
            "t.csv:2: column 'kind': expected 'batch' or 'interactive', found 'train'",
        ),
        (
            "a,0,10,1,x,1,,,1.5,,\n",
            "t.csv:2: column 'priority': expected a whole number or a priority class name, found '1.5'",
        ),
        (
            "a,0,10,1,x,1,,,,A100||H100,\n",
            "t.csv:2: column 'gpu_model': expected GPU models separated by '|', found 'A100||H100'",
        ),
        (
            "a,5,10,1,x,1,,,,,3\n",
            "t.csv:2: column 'recorded_start': the recorded start is before submit_time",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(canonical_err(&format!("{head}{body}")), *want);
    }
}

#[test]
fn a_full_row_reads_into_every_field() {
    let (_d, path) = file(
        "t.csv",
        "job_id,submit_time,duration,gpus,team,pods,cpu,memory_gib,gpu_model,priority,user,runtime_estimate,gpu_util,kind,color\n\
         b,20.5,60,0.25,ml,1,2,8,T4,1,ann,90,0.4,interactive,red\n\
         a,3,10,8,cv,2,48,512,H100|A100,-1,bob,,,batch,blue\n",
    );
    let l = read(&path, TraceFormat::Canonical).unwrap();
    assert_eq!(
        l.warnings,
        vec![format!("{}: ignoring unknown columns: color", path.display())]
    );
    let w = &l.workload;
    // Sorted by submit time.
    assert_eq!(w.names, vec!["a", "b"]);
    assert_eq!(w.lines, vec![3, 2]);
    let (a, b) = (&w.jobs[0], &w.jobs[1]);
    assert_eq!(
        (
            a.submit.0,
            a.work.0,
            a.pods,
            a.pod.gpu_milli,
            a.pod.cpu_milli,
            a.pod.mem_mib
        ),
        (3000, 10_000, 2, 8000, 48_000, 512 * 1024)
    );
    assert_eq!((a.priority, a.models.iter().count()), (-1, 2));
    assert_eq!(
        (
            b.submit.0,
            b.pod.gpu_milli,
            b.estimate.get().map(|e| e.0),
            b.gpu_util
        ),
        (20_500, 250, Some(90_000), Some(0.4))
    );
    assert_eq!(b.kind, fairway_engine::JobKind::Interactive);
    assert_eq!(w.users, vec!["ann", "bob"]);
}

#[test]
fn an_unknown_gpu_model_is_named_with_its_line() {
    let (dir, path) = file(
        "t.csv",
        "job_id,submit_time,duration,gpus,team,gpu_model\na,0,10,1,x,H100\nb,0,10,1,x,H200\n",
    );
    let mut w = read(&path, TraceFormat::Canonical).unwrap().workload;
    let c = Cluster::new(&ClusterSpec {
        pools: vec![PoolSpec::new("h", Some("H100"), 1, 8, 64, 512)],
    })
    .unwrap();
    let e = w.bind_models(&c).unwrap_err().to_string();
    assert_eq!(
        e.replace(&format!("{}/", dir.path().display()), ""),
        "t.csv:3: job 'b': column 'gpu_model': GPU model 'H200' is not in the cluster (its models: H100)"
    );
}

#[test]
fn broken_openb_rows() {
    let head = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";
    let cases: &[(&str, &str)] = &[
        (
            "p,1000,10,2,500,,LS,Running,0,10,0\n",
            "t.csv:2: column 'gpu_milli': a pod with 2 GPUs must use whole GPUs (1000), found '500'",
        ),
        (
            "p,1000,10,1,0,,LS,Running,0,10,0\n",
            "t.csv:2: column 'gpu_milli': expected 1..=1000 milli-GPU for a 1-GPU pod, found '0'",
        ),
        (
            "p,1000,10,1,500,,XX,Running,0,10,0\n",
            "t.csv:2: column 'qos': expected one of Guaranteed, LS, Burstable, BE, found 'XX'",
        ),
        (
            "p,1000,10,1,500,,LS,Running,5,3,\n",
            "t.csv:2: column 'deletion_time': deletion_time is before creation_time",
        ),
        (
            "p,1000,10,1,500,,LS,Running,5,30,40\n",
            "t.csv:2: column 'scheduled_time': scheduled_time must lie between creation_time and deletion_time",
        ),
        (
            "p,-1,10,1,500,,LS,Running,0,10,0\n",
            "t.csv:2: column 'cpu_milli': expected a whole number >= 0, found '-1'",
        ),
    ];
    for (body, want) in cases {
        let (dir, path) = file("t.csv", &format!("{head}{body}"));
        let e = read(&path, TraceFormat::Openb).unwrap_err().to_string();
        assert_eq!(e.replace(&format!("{}/", dir.path().display()), ""), *want);
    }
}

#[test]
fn broken_cluster_files() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "c.toml",
            "[[pool]]\nname = \"a\"\nnodes = 1\ngpus_per_node = 8\ncpu = 8\nmemory_gib = 8\n",
            "pool 'a': a pool with GPUs needs a gpu_model",
        ),
        (
            "c.toml",
            "[[pool]]\nname = \"a\"\nnodes = 1\ncpu = 8\nmemory_gib = 8\ncolour = \"red\"\n",
            "unknown field `colour`",
        ),
        (
            "c.csv",
            "name,gpu_model,nodes,gpus_per_node,cpu,memory_gib\na,H100,x,8,8,8\n",
            "c.csv:2: column 'nodes': expected a whole number, found 'x'",
        ),
        (
            "c.csv",
            "name,gpu_model,nodes,gpus_per_node,cpu,memory_gib\na,H100,1,65,8,8\n",
            "c.csv:2: gpus_per_node is at most 64, found 65",
        ),
        (
            "c.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,10,8,\n",
            "c.csv:2: column 'model': a node with GPUs needs a model",
        ),
        (
            "c.txt",
            "",
            "c.txt: a cluster file ends in .toml or .csv (or .json/.yaml for Kubernetes nodes)",
        ),
        // A YAML cluster file is Kubernetes nodes; one with none says so.
        ("c.yaml", "", "c.yaml: no node could be imported"),
    ];
    for (name, text, want) in cases {
        let (dir, path) = file(name, text);
        let e = cluster::read(&path, None).unwrap_err().to_string();
        let e = e.replace(&format!("{}/", dir.path().display()), "");
        assert!(e.contains(want), "{name}: got {e}\nwant {want}");
    }
}

/// A reader of one file format, with a valid file to break.
struct Reader {
    name: &'static str,
    /// The header line (empty for header-less formats).
    header: &'static str,
    row: &'static str,
    read: fn(&std::path::Path) -> Result<(), String>,
}

fn readers() -> Vec<Reader> {
    use fairway_traces::cluster::ClusterFormat;
    use fairway_traces::speeds;
    vec![
        Reader {
            name: "canonical",
            header: "job_id,submit_time,duration,gpus,team,pods,cpu,memory_gib,priority,gpu_util,kind",
            row: "a,1,60,1,t,2,4,16,3,0.5,batch",
            read: |p| {
                read(p, TraceFormat::Canonical)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            },
        },
        Reader {
            name: "openb pods",
            header: "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time",
            row: "p,12000,16384,1,1000,,LS,Running,0,100,0",
            read: |p| read(p, TraceFormat::Openb).map(|_| ()).map_err(|e| e.to_string()),
        },
        Reader {
            name: "openb nodes",
            header: "sn,cpu_milli,memory_mib,gpu,model",
            row: "n0,64000,262144,2,P100",
            read: |p| read_cluster(p, ClusterFormat::OpenbNodes),
        },
        Reader {
            name: "PAI machines",
            header: "",
            row: "m0,V100,96,512,8",
            read: |p| read_cluster(p, ClusterFormat::PaiMachines),
        },
        Reader {
            name: "spot nodes",
            header: "gpu_model,gpu_capacity_num,cpu_num,node_name",
            row: "A10,4,192,0",
            read: |p| read_cluster(p, ClusterFormat::SpotNodes),
        },
        Reader {
            name: "pool csv",
            header: "name,gpu_model,nodes,gpus_per_node,cpu,memory_gib,speed",
            row: "a,H100,2,8,64,512,1.5",
            read: |p| read_cluster(p, ClusterFormat::Csv),
        },
        Reader {
            name: "speed table",
            header: "gpu_model,speed",
            row: "A100,2.5",
            read: |p| speeds::read_table(p).map(|_| ()).map_err(|e| e.to_string()),
        },
        Reader {
            name: "speed matrix",
            header: "class,gpu_model,speed",
            row: "llm,A100,1.5",
            read: |p| speeds::read_matrix(p).map(|_| ()).map_err(|e| e.to_string()),
        },
    ]
}

/// A cluster file read and built into a cluster.
fn read_cluster(p: &std::path::Path, f: fairway_traces::cluster::ClusterFormat) -> Result<(), String> {
    cluster::read(p, Some(f))
        .map_err(|e| e.to_string())
        .and_then(|spec| {
            Cluster::new(&spec)
                .map(|_| ())
                .map_err(|e| format!("{}: {e}", p.display()))
        })
}

fn text(header: &str, rows: &[String]) -> Vec<u8> {
    let mut t = String::new();
    if !header.is_empty() {
        t += header;
        t.push('\n');
    }
    for r in rows {
        t += r;
        t.push('\n');
    }
    t.into_bytes()
}

/// Every reader, against every field of a valid row replaced by NaN, infinity, a negative, a
/// huge or an absurd number, non-UTF-8 bytes or an unknown word; and against an empty file, a
/// truncated row, a duplicated row and rows out of order. Each result is a value or one error
/// naming the file (and the line, for a row's fault); nothing panics.
#[test]
fn every_reader_survives_the_classic_breakages() {
    let bad: &[&[u8]] = &[
        b"NaN",
        b"inf",
        b"-inf",
        b"-1",
        b"1e300",
        b"1000000000",
        b"99999999999999999999999",
        b"\xff\xfe",
        b"zebra",
        b"",
    ];
    for r in readers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let check = |bytes: &[u8], what: &str, must_fail: bool| {
            std::fs::write(&path, bytes).unwrap();
            match (r.read)(&path) {
                Ok(()) => assert!(!must_fail, "{}: {what}: accepted", r.name),
                Err(e) => {
                    assert!(
                        e.contains("t.csv"),
                        "{}: {what}: the error names no file: {e}",
                        r.name
                    );
                    assert_eq!(e.lines().count(), 1, "{}: {what}: one line: {e}", r.name);
                }
            }
        };
        let row = r.row.to_string();
        check(
            &text(r.header, std::slice::from_ref(&row)),
            "the valid file",
            false,
        );
        check(b"", "an empty file", true);
        let fields: Vec<&str> = r.row.split(',').collect();
        let truncated = fields[..fields.len() - 1].join(",");
        check(
            &text(r.header, &[row.clone(), truncated]),
            "a truncated row",
            true,
        );
        for k in 0..fields.len() {
            for b in bad {
                let mut bytes = Vec::new();
                if !r.header.is_empty() {
                    bytes.extend_from_slice(r.header.as_bytes());
                    bytes.push(b'\n');
                }
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        bytes.push(b',');
                    }
                    bytes.extend_from_slice(if i == k { b } else { f.as_bytes() });
                }
                bytes.push(b'\n');
                let what = format!("field {k} = {:?}", String::from_utf8_lossy(b));
                std::fs::write(&path, &bytes).unwrap();
                if let Err(e) = (r.read)(&path) {
                    assert!(
                        e.contains("t.csv"),
                        "{}: {what}: the error names no file: {e}",
                        r.name
                    );
                    // A fault in a row names its line; only a limit of the whole cluster
                    // (too many nodes in all) has none.
                    let line = e
                        .split("t.csv:")
                        .nth(1)
                        .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_digit()));
                    assert!(
                        line || e.contains("the cluster has"),
                        "{}: {what}: no line in {e}",
                        r.name
                    );
                }
            }
        }
    }
}

/// Numbers no reader may take at face value: every numeric field of the canonical trace refuses
/// NaN, infinities and values beyond what the engine can count.
#[test]
fn the_canonical_reader_refuses_non_finite_and_huge_numbers() {
    let head = "job_id,submit_time,duration,gpus,team,pods,cpu,memory_gib,gpu_util";
    let row = ["a", "1", "60", "1", "t", "2", "4", "16", "0.5"];
    for (k, name) in head.split(',').enumerate() {
        if matches!(name, "job_id" | "team") {
            continue;
        }
        for v in ["NaN", "inf", "-inf", "1e300"] {
            let mut f = row.map(str::to_string);
            f[k] = v.to_string();
            let e = canonical_err(&format!("{head}\n{}\n", f.join(",")));
            assert!(
                e.starts_with(&format!("t.csv:2: column '{name}'")),
                "{name} = {v}: {e}"
            );
        }
    }
}
