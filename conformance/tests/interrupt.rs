//! Interrupted and concurrent kernel runs leave the user's tree as it was.
//!
//! run-kunit.sh is driven on a stand-in tree: the files it edits (the NVMe
//! and lib Kconfig/Makefile, a patched multipath.c) plus a stand-in
//! `tools/testing/kunit/kunit.py` whose `build` writes a stand-in UML
//! `linux` that prints KTAP. `MPV_TEST_HOLD=<stage>` parks the script (or
//! the stand-ins) at a stage; the test signals it there and compares a
//! checksum of every file of the tree (path, mode, content) with the one
//! taken before the run. No kernel is built, so this runs in `cargo test`.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kunit/run-kunit.sh")
}

/// The stand-in kunit.py: `build` writes .config and a stand-in UML
/// binary (which prints one passing KTAP suite); with MPV_TEST_HOLD=build
/// (or boot, for the binary) it records its pid and parks. MPV_TEST_ENOSPC=1
/// fails the build the way Python does on a full disk.
const KUNIT_PY: &str = r##"import os, sys, time
args = sys.argv[1:]
build = [a.split("=", 1)[1] for a in args if a.startswith("--build_dir=")][0]
def park(stage):
    if os.environ.get("MPV_TEST_HOLD") == stage:
        open(os.path.join(build, "mpv-child.pid"), "w").write(str(os.getpid()))
        open(os.path.join(build, "mpv-hold"), "w").write(stage + "\n")
        while True:
            time.sleep(0.05)
if args[0] == "build":
    if os.environ.get("MPV_TEST_ENOSPC") == "1":
        with open("/dev/full", "w") as f:
            f.write("x" * 65536)
            f.flush()
    park("build")
    open(os.path.join(build, ".config"), "w").write("CONFIG_KUNIT=y\n")
    linux = os.path.join(build, "linux")
    open(linux, "w").write("""#!/usr/bin/env python3
import os, sys, time
build = os.path.dirname(os.path.abspath(__file__))
if os.environ.get("MPV_TEST_HOLD") == "boot":
    open(os.path.join(build, "mpv-child.pid"), "w").write(str(os.getpid()))
    open(os.path.join(build, "mpv-hold"), "w").write("boot\\n")
    while True:
        time.sleep(0.05)
print("KTAP version 1\\n1..1\\n    KTAP version 1\\n    # Subtest: mpv_stand_in\\n    1..1\\n    ok 1 mpv_case\\nok 1 mpv_stand_in")
""")
    os.chmod(linux, 0o755)
sys.exit(0)
"##;

/// A patch against the stand-in multipath.c (MPV_PATCHES), so a patched
/// file's restore is covered too.
const PATCH: &str =
    "--- a/drivers/nvme/host/multipath.c\n+++ b/drivers/nvme/host/multipath.c\n@@ -1,3 +1,4 @@\n /* stand-in */\n int a;\n+int mpv_point;\n int b;\n";

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    tree: PathBuf,
    build: PathBuf,
}

fn stand_in() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let tree = root.join("linux");
    let files: &[(&str, &str)] = &[
        ("Makefile", "# stand-in top Makefile\n"),
        ("drivers/nvme/host/multipath.c", "/* stand-in */\nint a;\nint b;\n"),
        ("drivers/nvme/host/Kconfig", "config NVME_CORE\n\ttristate\n"),
        ("drivers/nvme/host/Makefile", "obj-$(CONFIG_NVME_CORE) += nvme-core.o\n"),
        ("lib/multipath.c", "/* stand-in library */\n"),
        ("lib/Kconfig.debug", "config DEBUG_KERNEL\n\tbool\n"),
        ("lib/Makefile", "obj-y += multipath.o\n"),
        ("tools/testing/kunit/kunit.py", KUNIT_PY),
    ];
    for (f, text) in files {
        let p = tree.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    std::fs::set_permissions(tree.join("tools/testing/kunit/kunit.py"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(root.join("suite.c"), "/* nvme suite */\n").unwrap();
    std::fs::write(root.join("lib_suite.c"), "/* lib suite */\n").unwrap();
    std::fs::write(root.join("points.patch"), PATCH).unwrap();
    let build = root.join("build");
    Tree { _dir: dir, root, tree, build }
}

/// Every file under `dir` (relative path -> mode and content digest), and
/// every directory.
fn checksum(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.insert(rel + "/", format!("dir {:o}", meta.permissions().mode()));
                walk(base, &p, out);
            } else {
                let digest = Sha256::digest(std::fs::read(&p).unwrap());
                out.insert(rel, format!("{:o} {:x}", meta.permissions().mode(), digest));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn command(t: &Tree, hold: Option<&str>) -> Command {
    let mut c = Command::new("bash");
    c.arg(script())
        .arg(&t.tree)
        .arg(t.root.join("suite.c"))
        .arg(&t.build)
        .env("MPV_LIB_SUITE", t.root.join("lib_suite.c"))
        .env("MPV_PATCHES", t.root.join("points.patch"))
        .env("MPV_TIMEOUT", "60")
        .env_remove("MPV_WAIT_FOR_TREE")
        .env_remove("MPV_TEST_ENOSPC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match hold {
        Some(h) => c.env("MPV_TEST_HOLD", h),
        None => c.env_remove("MPV_TEST_HOLD"),
    };
    c
}

/// Starts the script in a process group of its own (as a shell job is) and
/// waits until it parks at `stage`.
fn start_held(t: &Tree, stage: &str) -> Child {
    let _ = std::fs::remove_file(t.build.join("mpv-hold"));
    let mut c = command(t, Some(stage));
    c.process_group(0);
    let mut child = c.spawn().unwrap();
    let t0 = Instant::now();
    loop {
        if std::fs::read_to_string(t.build.join("mpv-hold")).map(|s| s.trim() == stage).unwrap_or(false) {
            return child;
        }
        if let Some(st) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!("run ended ({st}) before reaching stage {stage}: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(t0.elapsed() < Duration::from_secs(180), "stage {stage} not reached in 180 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn finish(child: Child) -> (i32, String) {
    let out: Output = wait_timeout(child, Duration::from_secs(180));
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn wait_timeout(mut child: Child, limit: Duration) -> Output {
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("run did not end within {limit:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn child_pid(t: &Tree) -> Option<i32> {
    std::fs::read_to_string(t.build.join("mpv-child.pid")).ok().and_then(|s| s.trim().parse().ok())
}

/// The run left nothing of itself in or beside the tree.
fn assert_restored(t: &Tree, before: &BTreeMap<String, String>, what: &str) {
    let after = checksum(&t.tree);
    if &after != before {
        let changed: Vec<_> = before.keys().chain(after.keys()).filter(|k| before.get(*k) != after.get(*k)).collect();
        panic!("{what}: tree differs from before the run in {changed:?}");
    }
    assert!(!t.root.join("linux.mpv-backup").exists(), "{what}: backup left next to the tree");
}

const STAGES: [&str; 4] = ["wired", "build", "boot", "verdict"];

#[test]
fn an_uninterrupted_run_passes_and_restores() {
    let t = stand_in();
    let before = checksum(&t.tree);
    let out = command(&t, None).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stand-in run failed: {err}");
    assert!(err.contains("applied points.patch to drivers/nvme/host/multipath.c"), "{err}");
    assert_restored(&t, &before, "clean run");
}

/// Parks a run at each stage, signals it there (`to_group`: the whole
/// job, as a terminal's Ctrl-C does; else the script alone, as `kill`
/// does) and checks the run exits 130 with the tree restored and its
/// build/boot child gone.
fn signal_at_each_stage(sig: i32, to_group: bool) {
    for stage in STAGES {
        let t = stand_in();
        let before = checksum(&t.tree);
        let child = start_held(&t, stage);
        // The tree is wired while the run is parked (else this proves nothing).
        assert_ne!(checksum(&t.tree), before, "{stage}: tree not wired while the run is active");
        let pid = child.id() as i32;
        // SAFETY: signals the script (or its process group) the test started.
        assert_eq!(unsafe { libc::kill(if to_group { -pid } else { pid }, sig) }, 0);
        let (code, err) = finish(child);
        assert_eq!(code, 130, "signal {sig} at {stage}: exit {code}: {err}");
        assert_restored(&t, &before, &format!("signal {sig} at {stage}"));
        if let Some(pid) = child_pid(&t) {
            assert!(!alive(pid), "{stage}: the build/boot child {pid} outlived the run");
        }
    }
}

#[test]
fn sigint_to_the_job_at_each_stage_restores_the_tree() {
    signal_at_each_stage(libc::SIGINT, true);
}

#[test]
fn sigterm_to_the_script_alone_at_each_stage_restores_the_tree() {
    signal_at_each_stage(libc::SIGTERM, false);
}

#[test]
fn a_run_whose_parent_dies_restores_the_tree() {
    let t = stand_in();
    let before = checksum(&t.tree);
    // A parent shell that is killed outright (as `mpath-verify kunit run`
    // killed with SIGKILL would be); the script notices and restores.
    let c = command(&t, Some("build"));
    let cmdline = format!("bash {:?} {:?} {:?} {:?} & wait", script(), t.tree, t.root.join("suite.c"), t.build);
    let mut parent = Command::new("bash");
    parent
        .arg("-c")
        .arg(cmdline)
        .envs(c.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut p = parent.spawn().unwrap();
    let t0 = Instant::now();
    while !t.build.join("mpv-hold").exists() {
        assert!(t0.elapsed() < Duration::from_secs(180), "build stage not reached");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_ne!(checksum(&t.tree), before);
    p.kill().unwrap();
    p.wait().unwrap();
    let t0 = Instant::now();
    while t.root.join("linux.mpv-backup").exists() || checksum(&t.tree) != before {
        assert!(t0.elapsed() < Duration::from_secs(20), "tree not restored within 20 s of the parent's death");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_restored(&t, &before, "parent killed");
    if let Some(pid) = child_pid(&t) {
        let t0 = Instant::now();
        while alive(pid) {
            assert!(t0.elapsed() < Duration::from_secs(10), "build child {pid} outlived the run");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_second_run_on_a_busy_tree_is_refused_and_touches_nothing() {
    let t = stand_in();
    let before = checksum(&t.tree);
    let first = start_held(&t, "build");
    let wired = checksum(&t.tree);
    let out = command(&t, None).arg(t.root.join("second.ktap")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    let line = err.lines().last().unwrap_or("");
    assert!(line.starts_with("run-kunit: error: ") && line.contains("in use by another mpath-verify run"), "{err}");
    assert!(line.contains(&format!("pid {}", first.id())), "the refusal names the holder: {line}");
    assert_eq!(checksum(&t.tree), wired, "the refused run touched the tree");
    // SAFETY: signals the process group the test created.
    unsafe { libc::kill(-(first.id() as i32), libc::SIGINT) };
    let (code, _) = finish(first);
    assert_eq!(code, 130);
    assert_restored(&t, &before, "after the busy refusal");
}

#[test]
fn a_stale_lock_from_a_killed_run_is_cleared_and_the_tree_restored() {
    let t = stand_in();
    let before = checksum(&t.tree);
    let first = start_held(&t, "build");
    let pid = first.id() as i32;
    // Killed outright: no trap runs. The stand-in build (its own session)
    // is killed too, as a reboot would.
    // SAFETY: signals processes the test started.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        if let Some(c) = child_pid(&t) {
            libc::kill(c, libc::SIGKILL);
        }
    }
    let _ = wait_timeout(first, Duration::from_secs(10));
    assert!(t.root.join("linux.mpv-backup").exists(), "a killed run leaves its backup (else this proves nothing)");
    assert_ne!(checksum(&t.tree), before);
    let _ = std::fs::remove_file(t.build.join("mpv-child.pid"));
    // The watcher of the killed run may still hold nothing: the lock is free.
    let out = command(&t, None).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("(pid {pid}) was killed before it could restore the tree: its lock was stale and is cleared")), "{err}");
    assert_restored(&t, &before, "after the stale lock");
}

#[test]
fn an_unusable_build_dir_is_one_line_and_exit_2() {
    let t = stand_in();
    let before = checksum(&t.tree);
    for (dir, reason) in [("/proc/mpv-no-such-dir/build", "cannot create build dir"), ("/proc", "is not writable")] {
        let out = Command::new("bash")
            .arg(script())
            .arg(&t.tree)
            .arg(t.root.join("suite.c"))
            .arg(dir)
            .env("MPV_LIB_SUITE", t.root.join("lib_suite.c"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{dir}: {err}");
        assert_eq!(err.lines().count(), 1, "{dir}: one line: {err}");
        assert!(err.starts_with("run-kunit: error: ") && err.contains(reason), "{dir}: {err}");
    }
    assert_restored(&t, &before, "unusable build dir");
}

#[test]
fn a_full_disk_during_the_build_is_one_line_not_a_traceback() {
    let t = stand_in();
    let before = checksum(&t.tree);
    let out = command(&t, None).env("MPV_TEST_ENOSPC", "1").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(!err.contains("Traceback"), "a Python traceback reached the user: {err}");
    let last = err.lines().last().unwrap_or("");
    assert!(last.starts_with("run-kunit: error: kunit.py build failed") && last.contains("no space left"), "{err}");
    // The traceback is kept in the logs.
    let log = std::fs::read_to_string(t.build.join("mpv.ktap.stderr")).unwrap();
    assert!(log.contains("No space left on device"), "{log}");
    assert_restored(&t, &before, "full disk");
}
