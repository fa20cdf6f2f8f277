//! Every committed fuzz corpus input and every crash ever found
//! (fuzz/corpus/<target>, fuzz/regressions/<target>) goes through its
//! target's check on stable: a fixed crash stays fixed. And the fuzz crate
//! has exactly the registry's targets.

use std::path::{Path, PathBuf};

use mpath_conformance::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).map(|r| r.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect()).unwrap_or_default();
    v.sort();
    v
}

#[test]
fn every_target_has_its_cargo_fuzz_binary_and_nothing_else() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let bins: Vec<&str> =
        manifest.lines().filter_map(|l| l.strip_prefix("name = \"")).map(|l| l.trim_end_matches('"')).filter(|n| *n != "mpath-fuzz").collect();
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(bins, names, "fuzz/Cargo.toml [[bin]]s vs mpath_conformance::fuzzing::TARGETS");
    for t in TARGETS {
        let src = std::fs::read_to_string(fuzz_dir().join(format!("fuzz_targets/{}.rs", t.name))).unwrap();
        assert!(src.contains(&format!("target(\"{}\")", t.name)), "fuzz_targets/{}.rs runs another target", t.name);
    }
}

#[test]
fn committed_corpora_and_regressions_pass_their_checks() {
    let mut n = 0;
    for t in TARGETS {
        for sub in ["corpus", "regressions"] {
            for f in files(&fuzz_dir().join(sub).join(t.name)) {
                let data = std::fs::read(&f).unwrap();
                let r = std::panic::catch_unwind(|| (t.check)(&data));
                assert!(r.is_ok(), "fuzz target {} fails on {}", t.name, f.display());
                n += 1;
            }
        }
    }
    // The seeds alone are more than this; an empty corpus proves nothing.
    assert!(n >= 100, "only {n} committed fuzz inputs");
}

#[test]
fn the_repo_inputs_pass_every_check() {
    // The seeds scripts/fuzz starts from: each must be a clean input for its
    // target (a crash here is a bug found without any fuzzing).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let glob = |dir: &str, ext: &str| -> Vec<PathBuf> { files(&root.join(dir)).into_iter().filter(|p| p.extension().is_some_and(|e| e == ext)).collect() };
    let traces: Vec<PathBuf> =
        ["conformance/traces/spec", "conformance/traces/gen", "conformance/traces/kernel"].iter().flat_map(|d| glob(d, "jsonl")).collect();
    assert!(traces.len() > 100);
    let check = |name: &str, data: &[u8]| (mpath_conformance::fuzzing::target(name).unwrap().check)(data);
    for f in &traces {
        let text = std::fs::read(f).unwrap();
        check("trace", &text);
        let mut named = format!("{}\n", f.file_name().unwrap().to_string_lossy()).into_bytes();
        named.extend_from_slice(&text);
        check("export", &named);
    }
    for f in glob("model/scenarios", "json") {
        check("scenario", &std::fs::read(f).unwrap());
    }
    for f in glob("model/revisions", "json") {
        check("revision", &std::fs::read(f).unwrap());
    }
    for f in glob("model/properties", "props") {
        check("properties", &std::fs::read(f).unwrap());
    }
    check("ktap", &std::fs::read(root.join("benches/report/kernel-um.ktap")).unwrap());
}

#[test]
fn deep_or_long_properties_are_refused_with_a_located_error() {
    // Found by fuzzing: a long enough `!!!...` overflowed the parser's
    // stack (SIGSEGV). Nesting and length are now bounded.
    use mpath_model::dataprop::{PropertySet, MAX_NESTING, MAX_PROPERTY_TOKENS};
    let cases = [
        ("!".repeat(MAX_NESTING + 1) + "true", format!("nested more than {MAX_NESTING} deep")),
        ("(".repeat(MAX_NESTING + 1) + "true" + &")".repeat(MAX_NESTING + 1), format!("nested more than {MAX_NESTING} deep")),
        ("true".to_string() + &" && true".repeat(MAX_PROPERTY_TOKENS), format!("longer than {MAX_PROPERTY_TOKENS} tokens")),
    ];
    for (expr, want) in cases {
        let e = PropertySet::parse("deep.props", &format!("property p always: {expr};")).unwrap_err().to_string();
        assert!(e.starts_with("deep.props:1:") && e.contains(&want), "{e}");
    }
    // Just inside the bounds still parses.
    let ok = format!("property p always: {}true;", "!".repeat(MAX_NESTING - 2));
    PropertySet::parse("ok.props", &ok).unwrap();
}
