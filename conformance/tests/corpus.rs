//! The checked-in trace corpus: every `conformance/traces/**/*.jsonl`
//! replays against the reference without divergence, and every generated
//! trace (`conformance/traces/gen/MANIFEST`) is byte-for-byte what `gen`
//! produces now for its seed.

use mpath_conformance::gen::{generate, generate_kernel, GenOpts};
use mpath_conformance::parse::parse_file;
use mpath_conformance::replay::{replay, Outcome};
use mpath_reference::DriverKind;
use std::path::{Path, PathBuf};

fn traces_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("traces")
}

fn jsonl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            jsonl_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "jsonl") {
            out.push(p);
        }
    }
}

fn all_traces() -> Vec<PathBuf> {
    let mut v = Vec::new();
    jsonl_files(&traces_dir(), &mut v);
    v
}

#[test]
fn every_trace_replays() {
    let files = all_traces();
    assert!(files.len() >= 50, "expected the spec corpus and the generated set, found {} traces", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let name = f.display().to_string();
        match parse_file(&name).and_then(|t| replay(&t)) {
            Ok(Outcome::Pass { steps, .. }) => assert!(steps > 0, "{name}: no steps"),
            Ok(Outcome::Diverged(d)) => failures.push(format!("DIVERGED {d}")),
            Err(e) => failures.push(format!("BAD-INPUT {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} traces failed:\n{}", failures.len(), files.len(), failures.join("\n"));
}

#[test]
fn spec_corpus_headers_are_well_formed() {
    let mut spec = Vec::new();
    jsonl_files(&traces_dir().join("spec"), &mut spec);
    assert!(spec.len() >= 40, "spec corpus has only {} traces", spec.len());
    let mut sections = std::collections::BTreeSet::new();
    for f in &spec {
        let name = f.display().to_string();
        let t = parse_file(&name).unwrap_or_else(|e| panic!("{e}"));
        let h = &t.header;
        assert!(h.description.len() >= 20, "{name}: the header needs a description quoting the spec bullet");
        // Expectations on a node other than 0 need NUMA: label them.
        let multi_node = h.topology.possible != vec![0];
        assert_eq!(multi_node, h.labels.iter().any(|l| l == "needs_numa"), "{name}: needs_numa label iff the topology has a node other than 0");
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        let section = stem.split('-').next().unwrap().split('.').next().unwrap().to_string();
        sections.insert(section.parse::<u32>().unwrap_or_else(|_| panic!("{name}: file name must start with the spec section")));
        for (lineno, l) in &t.lines {
            if matches!(l.op, mpath_reference::Op::FindPath { .. }) {
                assert!(l.ret.is_some(), "{name}:{lineno}: a find_path step without an expected ret");
            }
        }
    }
    for s in [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17] {
        assert!(sections.contains(&s), "no spec trace for section {s}");
    }
}

#[test]
fn spec_corpus_covers_revisions_and_kernel_share() {
    let mut spec = Vec::new();
    jsonl_files(&traces_dir().join("spec"), &mut spec);
    let mut by_rev = std::collections::BTreeMap::<String, usize>::new();
    let mut policies = std::collections::BTreeSet::new();
    for f in &spec {
        let t = parse_file(&f.display().to_string()).unwrap();
        *by_rev.entry(t.header.revision.clone()).or_default() += 1;
        if t.header.revision == "nvme-6.12" {
            policies.insert(t.header.iopolicy.clone());
        }
    }
    for r in ["v1", "v2", "v3", "nvme-6.12"] {
        assert!(by_rev.get(r).copied().unwrap_or(0) > 0, "no spec trace for revision {r}: {by_rev:?}");
    }
    assert!(by_rev["nvme-6.12"] >= 20, "too few nvme-6.12 traces: {by_rev:?}");
    assert_eq!(policies.len(), 3, "nvme-6.12 traces must cover all three iopolicies: {policies:?}");
}

struct Entry {
    file: String,
    seed: u64,
    ops: usize,
    revision: String,
    driver: DriverKind,
    kernel: bool,
}

fn manifest() -> Vec<Entry> {
    let text = std::fs::read_to_string(traces_dir().join("gen/MANIFEST")).expect("conformance/traces/gen/MANIFEST");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            assert!(w.len() == 5 || (w.len() == 6 && w[5] == "kernel"), "bad MANIFEST line {l:?}");
            Entry {
                file: w[0].into(),
                seed: w[1].parse().unwrap(),
                ops: w[2].parse().unwrap(),
                revision: w[3].into(),
                driver: match w[4] {
                    "nvme" => DriverKind::Nvme,
                    "scsi" => DriverKind::Scsi,
                    d => panic!("bad driver {d:?} in MANIFEST"),
                },
                kernel: w.len() == 6,
            }
        })
        .collect()
}

#[test]
fn generated_traces_are_deterministic() {
    let m = manifest();
    assert!(m.len() >= 12, "MANIFEST lists {} traces", m.len());
    let mut listed = std::collections::BTreeSet::new();
    for e in &m {
        let path = traces_dir().join("gen").join(&e.file);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let now = if e.kernel {
            generate_kernel(e.seed, e.ops, None)
        } else {
            generate(&GenOpts { seed: e.seed, ops: e.ops, revision: e.revision.clone(), driver: e.driver, nodes: None, paths: None })
        }
        .unwrap_or_else(|err| panic!("{}: gen failed: {err}", e.file));
        assert!(
            on_disk == now,
            "{} differs from what gen produces now for seed {} (first differing line {}); if the reference changed on purpose, run conformance/traces/gen/regen.sh",
            e.file,
            e.seed,
            on_disk.lines().zip(now.lines()).position(|(a, b)| a != b).map(|i| i + 1).unwrap_or(on_disk.lines().count().min(now.lines().count()) + 1)
        );
        // Generating twice in one process gives the same bytes too.
        let again = if e.kernel {
            generate_kernel(e.seed, e.ops, None)
        } else {
            generate(&GenOpts { seed: e.seed, ops: e.ops, revision: e.revision.clone(), driver: e.driver, nodes: None, paths: None })
        }
        .unwrap();
        assert_eq!(now, again, "{}: gen is not deterministic within a process", e.file);
        listed.insert(e.file.clone());
    }
    let mut files = Vec::new();
    jsonl_files(&traces_dir().join("gen"), &mut files);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(listed.contains(&name), "{name} is in traces/gen but not in MANIFEST");
    }
}

/// `traces/kernel/` holds exactly what `regen.sh` there produces now.
#[test]
fn kernel_traces_are_what_gen_produces() {
    use mpath_conformance::gen::generate_lib;
    let dir = traces_dir().join("kernel");
    let mut n = 0;
    for s in 1..=8u64 {
        let want = generate_kernel(s, 120, Some(((s * 5) % 14 + 1) as usize)).unwrap();
        let got = std::fs::read_to_string(dir.join(format!("k-seed-{s}.jsonl"))).unwrap();
        assert_eq!(got, want, "kernel/k-seed-{s}.jsonl is stale: run conformance/traces/kernel/regen.sh");
        n += 1;
    }
    for s in 1..=8u64 {
        let want = mpath_conformance::gen::generate_kernel_numa(s, 120, Some((s % 6 + 2) as usize), 2).unwrap();
        let got = std::fs::read_to_string(dir.join(format!("k-numa-seed-{s}.jsonl"))).unwrap();
        assert_eq!(got, want, "kernel/k-numa-seed-{s}.jsonl is stale: run conformance/traces/kernel/regen.sh");
    }
    for s in 1..=4u64 {
        let want = generate_lib(s, 100, Some((s * 3) as usize)).unwrap();
        let got = std::fs::read_to_string(dir.join(format!("lib-seed-{s}.jsonl"))).unwrap();
        assert_eq!(got, want, "kernel/lib-seed-{s}.jsonl is stale: run conformance/traces/kernel/regen.sh");
        n += 1;
    }
    for s in 1..=24u64 {
        let want = mpath_conformance::gen::generate_lib_driver(s, 80, Some((s % 5 + 1) as usize)).unwrap();
        let got = std::fs::read_to_string(dir.join(format!("lib-drv-seed-{s}.jsonl"))).unwrap();
        assert_eq!(got, want, "kernel/lib-drv-seed-{s}.jsonl is stale: run conformance/traces/kernel/regen.sh");
    }
    for s in 1..=12u64 {
        let want = mpath_conformance::gen::generate_lib_driver_rev(s, 80, Some((s % 5 + 1) as usize), "v1").unwrap();
        let got = std::fs::read_to_string(dir.join(format!("lib-v1-drv-seed-{s}.jsonl"))).unwrap();
        assert_eq!(got, want, "kernel/lib-v1-drv-seed-{s}.jsonl is stale: run conformance/traces/kernel/regen.sh");
    }
    assert_eq!(n, 12);
}
