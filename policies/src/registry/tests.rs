use super::*;

#[test]
fn labels_round_trip_through_the_registry() {
    for text in [
        "fifo",
        "fifo[mode=best-effort]",
        "priority",
        "priority[mode=best-effort]",
        "replay",
        "sjf",
        "sjf[estimate=team-mean,mode=strict]",
        "srtf[estimate=trace]",
        "las[thresholds_gpu_h=0.5:2:8,promote_after=0]",
        "drf",
        "drf[mode=strict]",
        "fair-share[half_life_h=24,weights=a:2;b:1]",
        "fair-share[mode=strict]",
        "easy-backfill[order=priority,estimate=oracle]",
    ] {
        let spec: Spec = text.parse().unwrap();
        let built = policy(&spec, 0).unwrap();
        let again = policy(&built.label().parse().unwrap(), 0).unwrap();
        assert_eq!(built.label(), again.label(), "{text}");
    }
    for text in ["first-fit", "best-fit", "spread", "random", "fgd"] {
        assert_eq!(placement(&text.parse().unwrap(), 0).unwrap().label(), text);
    }
}

/// The labels as reports have always printed them: every declared parameter with its value,
/// by key; optional ones only when given; numbers as given.
#[test]
fn labels_are_written_from_the_declarations() {
    let label = |t: &str| policy(&t.parse().unwrap(), 0).unwrap().label();
    assert_eq!(label("fifo"), "fifo[mode=strict]");
    assert_eq!(label("sjf"), "sjf[estimate=oracle,mode=best-effort]");
    assert_eq!(label("las"), "las[promote_after=8,thresholds_gpu_h=1:10]");
    assert_eq!(
        label("las[thresholds_gpu_h=0.50:2,promote_after=1.5]"),
        "las[promote_after=1.5,thresholds_gpu_h=0.5:2]"
    );
    assert_eq!(
        label("fair-share"),
        "fair-share[half_life_h=168,mode=best-effort]"
    );
    assert_eq!(
        label("fair-share[weights=a:2.0; b:1,half_life_h=24.0]"),
        "fair-share[half_life_h=24,mode=best-effort,weights=a:2;b:1]"
    );
    assert_eq!(label("easy-backfill"), "easy-backfill[estimate=trace,order=fifo]");
    assert_eq!(label("replay"), "replay");
    assert_eq!(
        placement(&"worst-fit".parse().unwrap(), 0).unwrap().label(),
        "spread"
    );
}

#[test]
fn unknown_names_and_params_list_the_valid_ones() {
    let e = policy(&"fofo".parse().unwrap(), 0).err().unwrap();
    assert_eq!(
        e.to_string(),
        "unknown policy 'fofo'; known: fifo, priority, sjf, srtf, las, drf, fair-share, easy-backfill, kueue, replay"
    );
    let e = policy(&"fifo[order=lifo]".parse().unwrap(), 0).err().unwrap();
    assert_eq!(
        e.to_string(),
        "policy 'fifo' has no parameter 'order'; its parameters: mode"
    );
    let e = policy(&"fifo[mode=lazy]".parse().unwrap(), 0).err().unwrap();
    assert_eq!(
        e.to_string(),
        "policy 'fifo': parameter 'mode' must be one of strict, best-effort, not 'lazy'"
    );
    let e = policy(&"las[thresholds_gpu_h=10:1]".parse().unwrap(), 0)
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "policy 'las': parameter 'thresholds_gpu_h' must be ascending GPU-hours > 0 separated by ':' (e.g. 1:10), not '10:1'"
    );
    let e = policy(&"las[promote_after=-1]".parse().unwrap(), 0)
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "policy 'las': parameter 'promote_after' must be a number >= 0, not '-1'"
    );
    let e = policy(&"kueue".parse().unwrap(), 0).err().unwrap();
    assert_eq!(
        e.to_string(),
        "policy 'kueue': parameter 'manifests' must be a path to Kueue manifests, not 'nothing'"
    );
    let e = placement(&"next-fit".parse().unwrap(), 0).err().unwrap();
    assert_eq!(
        e.to_string(),
        "unknown placement 'next-fit'; known: first-fit, best-fit, spread, random, fgd"
    );
    let e = placement(&"best-fit[x=1]".parse().unwrap(), 0).err().unwrap();
    assert_eq!(
        e.to_string(),
        "placement 'best-fit' has no parameter 'x'; its parameters: none"
    );
}

#[test]
fn the_listing_comes_from_the_declarations() {
    let r = Registry::builtin();
    let fifo = r.policies().iter().find(|e| e.name == "fifo").unwrap();
    assert_eq!(
        fifo.params[0].describe(),
        "mode = strict | best-effort (strict): strict stops at the first job that does not fit; best-effort lets later jobs that fit start"
    );
    let fs = r.policies().iter().find(|e| e.name == "fair-share").unwrap();
    assert_eq!(
        fs.params[1].describe(),
        "weights = team:weight pairs (weight > 0) separated by ';' (every team 1)"
    );
}

struct Nothing;
impl fairway_engine::Policy for Nothing {
    fn schedule(&mut self, _cx: &mut fairway_engine::Cycle<'_>) {}
}

const TONE: &[ParamDecl] = &[ParamDecl::choice("tone", &["calm", "loud"], "calm", "")];

#[test]
fn outside_entries_are_added_once_and_built_fresh_for_each_run() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static BUILT: AtomicUsize = AtomicUsize::new(0);
    let mut r = Registry::builtin();
    let entry = PolicyEntry {
        name: "nothing",
        summary: "starts nothing",
        params: TONE,
        resolve: |_, _| {
            Ok(each_run(|_| {
                BUILT.fetch_add(1, Ordering::SeqCst);
                Nothing
            }))
        },
    };
    r.add_policy(entry).unwrap();
    assert!(matches!(
        r.add_policy(entry),
        Err(RegistryError::Duplicate { what: "policy", .. })
    ));
    let dup = PlacementEntry {
        name: "packed",
        aliases: &["worst-fit"],
        summary: "",
        params: &[],
        resolve: |_| Ok(each_run_placement(|_| crate::FirstFit)),
    };
    assert!(r.add_placement(dup).is_err(), "an alias of a built-in");
    let p = r
        .resolve_policy(&"nothing[tone=loud]".parse().unwrap(), &Setup::default())
        .unwrap();
    assert_eq!(BUILT.load(Ordering::SeqCst), 0, "resolving builds nothing");
    assert_eq!(p.label(), "nothing[tone=loud]");
    for seed in 0..3 {
        assert_eq!(p.build(seed).unwrap().label(), "nothing[tone=loud]");
    }
    assert_eq!(BUILT.load(Ordering::SeqCst), 3);
    // The built-in registry does not know it.
    assert!(policy(&"nothing".parse().unwrap(), 0).is_err());
}

#[test]
fn kueue_edits_need_kueue() {
    let setup = Setup::with_kueue_edits(vec![crate::kueue::edit::Edit::Weight {
        cluster_queue: "a".into(),
        weight: 1.0,
    }]);
    let e = Registry::builtin()
        .resolve_policy(&"fifo".parse().unwrap(), &setup)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "whatif: Kueue edits need the kueue policy, not 'fifo'"
    );
}
