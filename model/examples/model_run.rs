//! `cargo run -p mpath-model --release --example model_run -- <revision> [scenario|catalogue] [--trace] [--dfs] [--sym] [--reduce] [--threads N] [--max-memory-mb M] [--timeout S] [--max-depth D]`
use mpath_model::*;
use std::sync::atomic::AtomicBool;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rev = RevisionSpec::load(args.first().map(|s| s.as_str()).unwrap_or("v2")).expect("revision");
    let what = args.get(1).cloned().unwrap_or_else(|| "catalogue".into());
    let mut bounds = Bounds::default();
    if args.iter().any(|a| a == "--sym") {
        bounds.symmetry = true;
    }
    if args.iter().any(|a| a == "--dfs") {
        bounds.mode = Mode::Dfs;
    }
    if args.iter().any(|a| a == "--reduce") {
        bounds.reduction = true;
    }
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).map(|v| v.parse::<u64>().expect("a number after the flag"));
    if let Some(n) = value("--threads") {
        bounds.threads = n as usize;
    }
    if let Some(d) = value("--max-depth") {
        bounds.max_depth = Some(d as usize);
    }
    if let Some(secs) = value("--timeout") {
        bounds.timeout_ms = Some(secs * 1000);
    }
    if let Some(mb) = value("--max-memory-mb") {
        bounds.max_memory = Some(mb << 20);
    }
    let stop = AtomicBool::new(false);
    if what == "catalogue" {
        let t = std::time::Instant::now();
        for r in run_catalogue(&rev, &bounds, &stop).expect("catalogue") {
            println!(
                "{:<5} {:<14} {:<28} expected {:<16} got {:<13} {} | {} states {} unique depth {} {} ms",
                r.entry.as_ref().map(|e| e.id).unwrap_or("-"),
                r.scenario,
                r.property,
                format!("{:?}", r.expected),
                r.verdict.to_string(),
                if r.matches_expectation { "ok" } else { "MISMATCH" },
                r.report.states,
                r.report.unique_states,
                r.report.max_depth,
                r.report.elapsed_ms
            );
        }
        println!("total {} ms", t.elapsed().as_millis());
        return;
    }
    let sc = Scenario::load(&what).expect("scenario");
    let rep = check(&rev, &sc, &bounds, None, &stop).expect("check");
    print!("{rep}");
    let m = mpath_model::checker::machine(&rev, &sc, std::sync::Arc::new(AtomicBool::new(false))).unwrap();
    for p in rep.violated() {
        let ce = p.counterexample.as_ref().unwrap();
        println!("--- {} ---", p.property);
        let lane = mpath_model::render::LaneOpts { width: 100, source: rev.source.clone(), tree: None };
        print!("{}", mpath_model::render::render_counterexample_with(&m, ce, &lane));
        if args.iter().any(|a| a == "--trace") {
            match counterexample_to_trace(&rev, &sc, ce) {
                Some((h, l)) => print!("{}", mpath_reference::trace::to_jsonl(&h, &l)),
                None => println!("(no trace)"),
            }
        }
    }
}
