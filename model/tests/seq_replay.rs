//! The model as the third execution of the trace corpus
//! (`mpath_model::replay`): every trace it can express passes, the gaps are
//! exactly the ones `README-model.md` lists (with their counts), and the
//! replay can fail.

use mpath_model::replay::*;
use mpath_model::RevisionSpec;
use mpath_reference::ops::Ret;

fn corpus() -> Vec<SeqTrace> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/traces");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(root).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "jsonl") {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    assert!(files.len() > 100, "corpus not found under {root}");
    files.iter().map(|f| load_trace(&f.display().to_string()).unwrap()).collect()
}

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README-model.md");
const BEGIN: &str = "<!-- model-replay summary: begin -->\n```\n";
const END: &str = "```\n<!-- model-replay summary: end -->";

/// Every expressible trace passes; the summary (totals and gap reasons
/// with counts) is the one README-model.md shows, so a new gap, a closed
/// one or a changed count fails here. `MPV_BLESS=1` rewrites the block.
#[test]
fn corpus_replays_on_the_model() {
    let r = replay_all(&corpus());
    let diverged: Vec<String> = r.diverged().iter().map(|(f, o)| o.render(f)).collect();
    assert!(diverged.is_empty(), "the model disagrees with the corpus:\n{}", diverged.join("\n"));
    assert!(r.passed() >= 25, "only {} traces replayed", r.passed());
    let summary = r.summary();
    let text = std::fs::read_to_string(README).unwrap();
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else { panic!("README-model.md has no model-replay summary block") };
    let documented = &text[b + BEGIN.len()..e];
    if std::env::var("MPV_BLESS").is_ok_and(|v| v == "1") {
        let new = format!("{}{summary}{}", &text[..b + BEGIN.len()], &text[e..]);
        std::fs::write(README, new).unwrap();
        return;
    }
    let reasons = |s: &str| {
        s.lines().skip(1).map(|l| l.trim().split_once("  ").map(|x| x.1.trim().to_string()).unwrap_or_default()).collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(reasons(documented), reasons(&summary), "gap reasons differ from README-model.md (regenerate with MPV_BLESS=1 after checking them)");
    assert_eq!(documented, summary, "model replay summary differs from README-model.md (regenerate with MPV_BLESS=1 after checking it)");
}

/// The replay can fail: v2 traces replayed on broken mutants' step
/// programs diverge (each of these mutants on at least one trace).
#[test]
fn mutants_diverge_on_the_corpus() {
    let v2: Vec<SeqTrace> = corpus().into_iter().filter(|t| t.header.revision == "v2").collect();
    for mutant in ["mut-numa-no-optimized-check", "mut-no-remove-link"] {
        let spec = RevisionSpec::by_name(mutant).unwrap();
        let r = replay_all_on(&spec, &v2);
        assert!(!r.diverged().is_empty(), "{mutant}: no v2 trace diverges ({} passed)", r.passed());
    }
    // And the unmutated v2 programs replay the same traces without one.
    let r = replay_all_on(&RevisionSpec::by_name("v2").unwrap(), &v2);
    assert!(r.diverged().is_empty() && r.passed() >= 5, "v2: {} passed, {} diverged", r.passed(), r.diverged().len());
}

/// A wrong expectation is a divergence naming its line and field.
#[test]
fn a_wrong_expectation_diverges_at_its_line() {
    let mut t = corpus().into_iter().find(|t| t.file.ends_with("7.4-rr-rotates.jsonl")).unwrap();
    assert!(matches!(replay(&t), SeqOutcome::Pass { .. }));
    let (lineno, line) = t.lines.iter_mut().find(|(_, l)| matches!(l.ret, Some(Ret::Path(Some(_))))).unwrap();
    let lineno = *lineno;
    let Some(Ret::Path(Some(p))) = line.ret else { unreachable!() };
    line.ret = Some(Ret::Path(Some(p ^ 1)));
    match replay(&t) {
        SeqOutcome::Diverged(d) => {
            assert_eq!((d.line, d.field.as_str()), (lineno, "ret"));
            assert_eq!(d.actual, format!("{{\"path\":{p}}}"));
        }
        o => panic!("expected a divergence, got {o:?}"),
    }
    // An expectation on a field the model does not hold is a gap, not a pass.
    let mut t2 = corpus().into_iter().find(|t| t.file.ends_with("7.4-rr-rotates.jsonl")).unwrap();
    t2.lines[0].1.expect.get_or_insert_with(Default::default).module_refs = Some(0);
    assert!(matches!(replay(&t2), SeqOutcome::Gap(g) if g.reason.contains("module_refs")));
}

/// Bad input is one line naming file, line and column.
#[test]
fn parse_errors_are_one_line() {
    let e = parse_trace("x.jsonl", "{\"mpath_trace\":1}\n").unwrap_err();
    assert!(e.starts_with("x.jsonl:1:") && !e.contains('\n'), "{e}");
    let h = corpus()[0].header.to_json();
    let e = parse_trace("y.jsonl", &format!("{h}\n{{\"do\":{{\"op\":\"nope\"}}}}\n")).unwrap_err();
    assert!(e.starts_with("y.jsonl:2:") && !e.contains('\n'), "{e}");
}
