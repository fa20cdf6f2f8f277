//! The README's bench table is generated: it must equal what `bench
//! report` renders from the committed run (`benches/report/run.json`), and
//! `benches/report/report.md` likewise.

use mpath_benches::report::{self, README_BEGIN, README_END};
use mpath_benches::RunFile;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn readme_table_is_what_bench_report_renders() {
    let run = RunFile::read(&root().join("benches/report/run.json")).unwrap();
    let readme = root().join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    assert!(text.contains(README_BEGIN) && text.contains(README_END), "README.md lacks the bench report markers");
    assert!(report::readme_is_current(&run, &readme).unwrap(), "README.md's bench table is stale or hand-edited: run `mpath-verify bench report`");
    // A hand edit inside the block is caught.
    let block_start = text.find(README_BEGIN).unwrap();
    let edited = format!("{}{}", &text[..block_start], text[block_start..].replacen("| ", "| x", 1));
    let d = std::env::temp_dir().join(format!("mpath-benches-readme-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("README.md");
    std::fs::write(&p, edited).unwrap();
    assert!(!report::readme_is_current(&run, &p).unwrap());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn committed_report_md_is_what_bench_report_renders() {
    let run = RunFile::read(&root().join("benches/report/run.json")).unwrap();
    let d = std::env::temp_dir().join(format!("mpath-benches-reportmd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    report::report(&run, &d, None).unwrap();
    let want = std::fs::read_to_string(d.join("report.md")).unwrap();
    let have = std::fs::read_to_string(root().join("benches/report/report.md")).unwrap();
    assert_eq!(have, want, "benches/report/report.md is stale: run `mpath-verify bench report`");
    let _ = std::fs::remove_dir_all(&d);
}
