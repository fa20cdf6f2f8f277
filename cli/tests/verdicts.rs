//! Verdicts a reviewer can read (issue 17): the catalogue table and list in
//! words with who raised each claim and where, `--format email` (72
//! columns) and `--format markdown`, swimlane widths, one-line errors, and
//! the README's revision-file example.

use mpath_conformance::verdicts::{catalogue_list, table, TableRow};
use mpath_model::catalogue::catalogue;
use mpath_model::{Expect, Verdict};
use std::path::PathBuf;
use std::process::Command;

fn verify(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mpath-verify")).args(args).output().expect("run mpath-verify");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mpv-verdicts-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn row(id: Option<&'static str>, scenario: &str, property: &str, expected: Option<Expect>, verdict: Verdict, ok: bool) -> TableRow {
    TableRow {
        id,
        scenario: scenario.into(),
        property: property.into(),
        expected,
        verdict,
        as_expected: ok,
        note: None,
        states: 72393,
        unique: 29681,
        depth: 43,
        ms: 344,
        unique_per_sec: 86278.0,
    }
}

/// The text table, byte for byte: verdicts in words, the claim and who
/// raised it where before an id's first row.
#[test]
fn table_is_pinned() {
    let rows = vec![
        row(None, "S03a-B", "no_use_after_free", None, Verdict::Holds, true),
        row(Some("S03a"), "S03a-B", "selection_terminates", Some(Expect::Reproduced), Verdict::Violated, true),
        row(Some("S03a"), "S03a-B", "no_stranded_requeue", Some(Expect::Reproduced), Verdict::Holds, false),
    ];
    let mut rows = rows;
    rows[2].note = Some("expected VIOLATED (nvme-6.12) but holds".into());
    let want = "\
id    scenario       property                       expected         verdict          ok     states    unique depth      ms  unique/s
-     S03a-B         no_use_after_free              -                not reproducible yes     72393     29681    43     344     86278
S03a  the round-robin loop never terminates once the cached old path is unlinked
      raised by sashiko-bot on \"Re: [PATCH v3 03/13] libmultipath: Add path selection support\" <20260703104556.AC6B71F000E9@smtp.kernel.org>
S03a  S03a-B         selection_terminates           reproduced       reproduced       yes     72393     29681    43     344     86278
S03a  S03a-B         no_stranded_requeue            reproduced       not reproducible NO      72393     29681    43     344     86278
      ^ expected VIOLATED (nvme-6.12) but holds
";
    assert_eq!(table(&rows), want, "\n{}", table(&rows));
}

/// `catalogue list`: every id once with its claim, reviewer, patch and
/// Message-ID, and each entry's expected verdicts in words.
#[test]
fn catalogue_list_names_claims_and_reviewers_in_words() {
    let text = catalogue_list(&catalogue());
    assert!(text.starts_with("R4    v1 mpath_device_set_live() dereferences mpath_disk before its NULL check\n      raised by Benjamin Marzinski on \"Re: [PATCH 02/13] libmultipath: Add basic gendisk support\" <aZ-s-JNWBOA1xqVG@redhat.com>\n      status: fixed in v2\n      R4 / no_null_disk: v1 reproduced, v2 not reproducible, v3 not reproducible, nvme-6.12 not reproducible\n"), "{text}");
    assert!(text.contains("      S03a-B / no_stranded_requeue: nvme-6.12 reproduced\n"), "{text}");
    for e in catalogue() {
        assert_eq!(text.lines().filter(|l| l.starts_with(&format!("{:<5} ", e.id))).count(), 1, "{} once", e.id);
    }
    for debug in ["NotReproducible", "Reproduced", "Some(", "None"] {
        assert!(!text.contains(debug), "{debug}: {text}");
    }
    let (rc, out, _) = verify(&["catalogue", "list"]);
    assert_eq!((rc, out.as_str()), (0, text.as_str()));
    let (rc, out, _) = verify(&["catalogue", "list", "--json"]);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s03a = v.as_array().unwrap().iter().find(|e| e["scenario"] == "S03a-B" && e["property"] == "selection_terminates").unwrap();
    assert_eq!(s03a["message_id"], "20260703104556.AC6B71F000E9@smtp.kernel.org");
    assert_eq!(s03a["expected"]["nvme-6.12"], "reproduced");
}

/// `check --format email` on the S03a-B finding of nvme-6.12: no line over
/// 72 columns, the claim and where it was raised, the verdicts, the
/// interleaving in 6.12's names, the candidate fix checked, the commands;
/// the same bytes on every run.
#[test]
fn email_report_of_s03a_b_on_6_12() {
    let d = tmpdir("email");
    let save = d.display().to_string();
    let args = ["check", "--revision", "nvme-6.12", "--scenario", "S03a-B", "--format", "email", "--save-dir", &save];
    let (rc, mail, err) = verify(&args);
    assert_eq!(rc, 0, "{err}");
    for l in mail.lines() {
        assert!(l.chars().count() <= 72, "over 72 columns: {l:?}");
        assert_eq!(l, l.trim_end(), "trailing blanks: {l:?}");
    }
    for needle in [
        "S03a: the round-robin loop never terminates once the cached old path\n",
        "<20260703104556.AC6B71F000E9@smtp.kernel.org>",
        "  selection_terminates: reproduced (expected: reproduced)\n",
        "  no_stranded_requeue: reproduced (expected: reproduced)\n",
        "Interleaving for selection_terminates (35 steps;",
        "nvme_round_robin_path: dev = nvme_next_ns(dev)",
        "violation: non-termination of P1 in nvme_round_robin_path at",
        "Fix variant fix-612-rr-removing\n  (conformance/kunit/race/fix-612-rr-removing.json)",
        "With it, S03a-B: selection_terminates not reproducible,\n  no_stranded_requeue not reproducible",
        "Reproduce:\n  mpath-verify check --revision nvme-6.12 --scenario S03a-B\n",
    ] {
        assert!(mail.contains(needle), "missing {needle:?}:\n{mail}");
    }
    assert!(!mail.contains("mpath_round_robin_path") && !mail.contains("mpath_next_dev"), "{mail}");
    let (_, again, _) = verify(&args);
    assert_eq!(mail, again, "deterministic");
    let _ = std::fs::remove_dir_all(&d);
}

/// The catalogue as a mail: 72 columns, every entry with its verdicts.
#[test]
fn email_report_of_a_catalogue() {
    let d = tmpdir("email-cat");
    let save = d.display().to_string();
    let (rc, mail, err) = verify(&["check", "--catalogue", "--revision", "v1", "--format", "email", "--save-dir", &save]);
    assert_eq!(rc, 0, "{err}");
    assert!(mail.lines().all(|l| l.chars().count() <= 72), "{mail}");
    assert!(mail.contains("R4: v1 mpath_device_set_live() dereferences mpath_disk before its NULL\n  check\n  Raised by Benjamin Marzinski"), "{mail}");
    assert!(mail.contains("  - R4 / no_null_disk: reproduced, expected reproduced\n"), "{mail}");
    assert!(mail.contains("  - N1 / no_duplicate_link: not reproducible, expected not reproducible\n"), "{mail}");
    let _ = std::fs::remove_dir_all(&d);
}

/// `--format markdown`: a table of verdicts and the swimlane in a code
/// block.
#[test]
fn markdown_report() {
    let d = tmpdir("md");
    let save = d.display().to_string();
    let (rc, md, err) = verify(&["check", "--revision", "nvme-6.12", "--scenario", "S03a-B", "--format", "markdown", "--save-dir", &save]);
    assert_eq!(rc, 0, "{err}");
    assert!(md.starts_with("### S03a-B on nvme-6.12\n\n**S03a**: the round-robin loop never terminates once the cached old path is unlinked. Raised by sashiko-bot on \"Re: [PATCH v3 03/13] libmultipath: Add path selection support\" &lt;20260703104556.AC6B71F000E9@smtp.kernel.org&gt;.\n"), "{md}");
    assert!(md.contains("| property | expected | verdict | as expected |\n|---|---|---|---|\n| `selection_terminates` | reproduced | reproduced | yes |\n| `no_stranded_requeue` | reproduced | reproduced | yes |\n"), "{md}");
    assert!(md.contains("```text\n  #  R "), "{md}");
    assert!(md.contains("```sh\nmpath-verify check --revision nvme-6.12 --scenario S03a-B\n"), "{md}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Swimlanes wrap at `--width`; without it and without a terminal, at 100.
#[test]
fn swimlane_width() {
    let d = tmpdir("width");
    let save = d.display().to_string();
    let lane_lines = |out: &str| -> Vec<String> {
        out.lines()
            .skip_while(|l| !l.starts_with("--- counterexample"))
            .filter(|l| !l.starts_with("--- counterexample") && !l.starts_with("saved counterexample"))
            .map(String::from)
            .collect()
    };
    for (width, args) in [(60, vec!["--width", "60"]), (100, vec![])] {
        let mut a = vec!["check", "--revision", "nvme-6.12", "--scenario", "S03a-B", "--save-dir", &save];
        a.extend(args);
        let (rc, out, err) = verify(&a);
        assert_eq!(rc, 0, "{err}");
        let lanes = lane_lines(&out);
        assert!(lanes.len() > 70, "{out}");
        assert!(lanes.iter().all(|l| l.chars().count() <= width), "width {width}:\n{}", lanes.join("\n"));
        assert!(lanes.iter().any(|l| l.chars().count() > width - 10), "uses the width {width}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A broken revision or scenario file is one line: `file:line:column:
/// reason`, the prefix and the position once.
#[test]
fn errors_are_one_line() {
    let d = tmpdir("errors");
    let bad = d.join("r1.json");
    std::fs::write(&bad, "{\"base\": \"v3\", \"description\": \"no name\"}").unwrap();
    let b = bad.display().to_string();
    let (rc, out, err) = verify(&["check", "--revision", &b, "--scenario", "S01"]);
    assert_eq!((rc, out.as_str()), (2, ""));
    assert_eq!(err, format!("error: {b}:1:40: missing field `name`\n"));
    let missing = d.join("nope.json").display().to_string();
    let (rc, _, err) = verify(&["check", "--revision", &missing, "--scenario", "S01"]);
    assert_eq!(rc, 2);
    assert_eq!(err.matches(&missing).count(), 1, "{err}");
    assert!(err.starts_with(&format!("error: {missing}: cannot read: ")), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let sc = d.join("s1.json");
    std::fs::write(&sc, "{\"name\": \"x\", \"threads\": []}").unwrap();
    let s = sc.display().to_string();
    let (rc, _, err) = verify(&["check", "--scenario", &s]);
    assert_eq!(rc, 2);
    assert_eq!(err, format!("error: {s}:1:28: missing field `header`\n"));
    let (rc, _, err) = verify(&["check", "--scenario", "nope"]);
    assert_eq!(rc, 2);
    assert!(err.starts_with("error: scenario \"nope\" is not shipped (known: ") && err.lines().count() == 1, "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The README's revision-file example is a valid file for the command it
/// is shown with.
#[test]
fn readme_revision_example_runs() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let example = readme.lines().map(str::trim).find(|l| l.starts_with("{\"name\": \"my-v2\"")).expect("the example in the README");
    let command = readme.lines().map(str::trim).find(|l| l.starts_with("mpath-verify check --revision my-v2.json")).expect("its command in the README");
    let d = tmpdir("readme");
    std::fs::write(d.join("my-v2.json"), example).unwrap();
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_mpath-verify")).current_dir(&d).args(&args).arg("--save-dir").arg(d.join("ce")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{command}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&d);
}

/// The mail shown in the README ("A verdict for a review reply") is what
/// the command prints today, byte for byte.
#[test]
fn readme_mail_is_the_real_output() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("#### A verdict for a review reply\n").nth(1).expect("the README section");
    let block: Vec<&str> = section.lines().skip_while(|l| !l.starts_with("    ")).take_while(|l| l.is_empty() || l.starts_with("    ")).collect();
    let mut shown: String = block.iter().map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(""))).collect();
    while shown.ends_with("\n\n") {
        shown.pop();
    }
    let d = tmpdir("readme-mail");
    let save = d.display().to_string();
    let (rc, mail, err) =
        verify(&["check", "--revision", "nvme-6.12", "--scenario", "S03a-B", "--property", "selection_terminates", "--format", "email", "--save-dir", &save]);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(shown, mail, "README mail differs from the output");
    let _ = std::fs::remove_dir_all(&d);
}

/// The catalogue as Markdown, byte for byte.
#[test]
fn catalogue_markdown_is_pinned() {
    let rows = vec![
        row(Some("R4"), "R4", "no_null_disk", Some(Expect::Reproduced), Verdict::Violated, true),
        row(None, "N2a", "no_stale_path_after_removal", Some(Expect::Reproduced), Verdict::Holds, false),
    ];
    let want = "### Review catalogue on `v1`\n\n\
| id | claim | raised by | scenario | property | expected | verdict | as expected |\n\
|---|---|---|---|---|---|---|---|\n\
| R4 | v1 mpath_device_set_live() dereferences mpath_disk before its NULL check | Benjamin Marzinski on \"Re: [PATCH 02/13] libmultipath: Add basic gendisk support\" &lt;aZ-s-JNWBOA1xqVG@redhat.com&gt; | R4 | `no_null_disk` | reproduced | reproduced | yes |\n\
| - | - | - | N2a | `no_stale_path_after_removal` | reproduced | not reproducible | **no** |\n\
\nReproduce: `mpath-verify check --revision v1 --catalogue`\n";
    assert_eq!(mpath_conformance::verdicts::catalogue_markdown("v1", &rows), want);
}
