//! `series prepare` on small fake base trees (temporary directories, never
//! the real cache): the real v1/v2 series from shared/series apply with the
//! fuzz of 0001 reported, the 6.12 shim goes in only when the base needs
//! it, re-preparing writes nothing, switching series swaps and restores
//! files, the partial v3 and a corrupted patch fail as bad input (exit 2, mapped in cli/src/exit.rs) naming what
//! is wrong, and an mbox gives the same bytes as the directory.

use mpath_conformance::series::{self, Api, PrepareOpts, Prepared, SeriesError, Source, TreeAction, SHIM_MARK};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;
use tempfile::TempDir;

const SERIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/series");
const FILES: [&str; 4] = ["include/linux/multipath.h", "lib/Kconfig", "lib/Makefile", "lib/multipath.c"];
const GETGEO_612: &str = "\tint (*getgeo)(struct block_device *, struct hd_geometry *);\n";
const GETGEO_NEW: &str = "\tint (*getgeo)(struct gendisk *, struct hd_geometry *);\n";

fn series_dir(v: &str) -> Option<PathBuf> {
    let p = Path::new(SERIES).join(v);
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: {} not found (shared/series is not beside the repository)", p.display());
        None
    }
}

/// The pristine unpacked 6.12 tree, for lib/Kconfig and lib/Makefile.
fn pristine() -> Option<PathBuf> {
    let p = series::default_kernel_src();
    if p.join("lib/Kconfig").is_file() && p.join("lib/Makefile").is_file() {
        Some(p)
    } else {
        eprintln!("SKIP: {} has no lib/Kconfig (run conformance/kunit/setup-kernel.sh); test skipped", p.display());
        None
    }
}

struct Fake {
    tmp: TempDir,
    base: PathBuf,
    cache: PathBuf,
}

impl Fake {
    fn opts(&self, source: Source) -> PrepareOpts {
        PrepareOpts { source, kernel_src: self.base.clone(), cache: self.cache.clone(), force: false }
    }

    fn prepare(&self, series: &Path) -> Result<Prepared, SeriesError> {
        series::prepare(&self.opts(Source::Series(series.to_path_buf())))
    }

    fn scratch(&self) -> PathBuf {
        self.cache.join("series/linux-fake").canonicalize().unwrap_or_else(|_| self.cache.join("series/linux-fake"))
    }
}

fn write(p: &Path, content: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

/// A base tree `linux-fake` with the kunit.py/Makefile markers, a blkdev.h
/// holding one getgeo declaration, and (when `lib`) lib/Kconfig and
/// lib/Makefile of the real 6.12.
fn fake_in(tmp: TempDir, sub: &str, getgeo: &str, lib: bool) -> Option<Fake> {
    let base = tmp.path().join(sub).join("linux-fake");
    write(&base.join("Makefile"), "# fake\n");
    write(&base.join("tools/testing/kunit/kunit.py"), "# fake\n");
    write(&base.join("include/linux/blkdev.h"), &format!("struct block_device_operations {{\n{getgeo}}};\n"));
    if lib {
        let p = pristine()?;
        for f in ["lib/Kconfig", "lib/Makefile"] {
            fs::create_dir_all(base.join("lib")).unwrap();
            fs::copy(p.join(f), base.join(f)).unwrap();
        }
    }
    let cache = tmp.path().join("cache");
    Some(Fake { tmp, base, cache })
}

fn fake(getgeo: &str) -> Option<Fake> {
    fake_in(TempDir::new().unwrap(), "base", getgeo, true)
}

fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn mtime(p: &Path) -> SystemTime {
    fs::metadata(p).and_then(|m| m.modified()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn snapshot(tree: &Path) -> BTreeMap<&'static str, (Vec<u8>, SystemTime)> {
    FILES.iter().map(|f| (*f, (read(&tree.join(f)), mtime(&tree.join(f))))).collect()
}

fn sidecar(tree: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", tree.display()))
}

#[test]
fn v2_then_v1_then_v2_fuzz_shim_api_and_no_rewrites() {
    let (Some(v1), Some(v2), Some(f)) = (series_dir("v1"), series_dir("v2"), fake(GETGEO_612)) else { return };
    let base_kconfig = read(&f.base.join("lib/Kconfig"));

    let p = f.prepare(&v2).unwrap_or_else(|e| panic!("{e}"));
    let tree = f.scratch();
    assert_eq!(p.tree, tree);
    assert_eq!(p.tree_action, TreeAction::Created);
    assert!(!p.already_prepared);
    assert_eq!(p.state.api, Api::V2);
    assert_eq!((p.state.version.as_str(), p.state.series.as_str(), p.state.patches.len()), ("v2", "v2", 13));
    assert_eq!(p.state.files, FILES);
    assert_eq!(p.written, FILES);
    let n1 = &p.state.patches[0].notes;
    assert!(n1.iter().any(|n| n.starts_with("lib/Kconfig hunk 1 applied with fuzz ") && n.contains("(offset ")), "0001 notes: {n1:?}");
    assert!(n1.iter().any(|n| n.starts_with("lib/Makefile hunk 1 applied with fuzz ")), "0001 notes: {n1:?}");
    assert!(p.state.patches[1..].iter().all(|r| r.notes.is_empty()), "0002..0013 apply cleanly");
    assert!(p.report_lines().iter().any(|l| l.starts_with("0001: lib/Kconfig hunk 1 applied with fuzz")));
    assert!(p.state.shim.iter().any(|s| s.contains("mpath_bdev_getgeo()")), "{:?}", p.state.shim);
    assert!(p.state.shim.iter().any(|s| s == "report_zones: not shimmed (CONFIG_BLK_DEV_ZONED off)"), "{:?}", p.state.shim);
    let c = String::from_utf8(read(&tree.join("lib/multipath.c"))).unwrap();
    assert!(c.contains("static int mpath_bdev_getgeo(struct block_device *bdev, struct hd_geometry *geo)\n{\n\tstruct gendisk *disk = bdev->bd_disk;\t/* mpath-verify 6.12 shim */\n"));
    assert!(c.contains("fops->getgeo(\n\t\t\t\t\tmpath_device->disk->part0, geo);"));
    assert!(!c.contains("mpath_bdev_getgeo(struct gendisk"));
    assert_eq!(c.matches(SHIM_MARK).count(), 1);
    assert!(String::from_utf8(read(&tree.join("lib/Kconfig"))).unwrap().contains("config LIBMULTIPATH"));
    assert!(String::from_utf8(read(&tree.join("lib/Makefile"))).unwrap().contains("obj-$(CONFIG_LIBMULTIPATH)"));
    // the base tree is never modified; marker and state sit next to the tree
    assert_eq!(read(&f.base.join("lib/Kconfig")), base_kconfig);
    assert!(!f.base.join("lib/multipath.c").exists());
    assert_eq!(fs::read_to_string(sidecar(&tree, ".mpv-base")).unwrap().trim_end(), f.base.canonicalize().unwrap().display().to_string());
    let st = series::read_state(&tree).expect("state");
    assert_eq!((st.series.as_str(), st.api, st.patches.len()), ("v2", Api::V2, 13));
    assert!(!tree.join(".mpv-series.json").exists());
    let v2_bytes = snapshot(&tree);

    // again: nothing written, mtimes kept
    let state_mtime = mtime(&sidecar(&tree, ".mpv-series.json"));
    let again = f.prepare(&v2).unwrap();
    assert!(again.already_prepared, "{:?}", again.written);
    assert!(again.written.is_empty() && again.removed.is_empty());
    assert_eq!(again.tree_action, TreeAction::Existing);
    assert!(again.report_lines().iter().any(|l| l == "already prepared"));
    assert_eq!(snapshot(&tree), v2_bytes);
    assert_eq!(mtime(&sidecar(&tree, ".mpv-series.json")), state_mtime);

    // v1: the v1 API, its one-line getgeo call shimmed; files v1 and v2 agree on keep their mtime
    let p1 = f.prepare(&v1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((p1.state.api, p1.state.version.as_str()), (Api::V1, "v1"));
    assert!(p1.state.patches[0].notes.iter().any(|n| n.starts_with("lib/Kconfig hunk 1 applied with fuzz")));
    let c1 = String::from_utf8(read(&tree.join("lib/multipath.c"))).unwrap();
    assert!(c1.contains("fops->getgeo(mpath_device->disk->part0, geo);"), "v1 call shimmed");
    assert!(c1.contains(SHIM_MARK));
    assert!(p1.written.contains(&"lib/multipath.c".to_string()) && p1.written.contains(&"include/linux/multipath.h".to_string()));
    for f in FILES {
        let now = (read(&tree.join(f)), mtime(&tree.join(f)));
        if p1.unchanged.iter().any(|u| u == f) {
            assert_eq!(now, v2_bytes[f], "{f} unchanged by the switch keeps bytes and mtime");
        } else {
            assert_ne!(now.0, v2_bytes[f].0, "{f} written with other bytes");
        }
    }
    assert_eq!(series::read_state(&tree).unwrap().api, Api::V1);

    // back to v2: the v2 bytes
    let p2 = f.prepare(&v2).unwrap();
    assert_eq!(p2.state.api, Api::V2);
    assert!(!p2.written.is_empty());
    for f in FILES {
        assert_eq!(read(&tree.join(f)), v2_bytes[f].0, "{f} after v2 -> v1 -> v2");
    }
}

#[test]
fn switching_to_another_series_restores_and_removes_files() {
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_612)) else { return };
    let other = f.tmp.path().join("other");
    write(
        &other.join("0001-extra.patch"),
        "From: T <t@example.com>\nSubject: [PATCH] test: add an extra file\n\n---\ndiff --git a/lib/extra/x.c b/lib/extra/x.c\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/lib/extra/x.c\n@@ -0,0 +1,2 @@\n+/* extra */\n+int extra;\n-- \n2.43.5\n",
    );
    f.prepare(&v2).unwrap();
    let tree = f.scratch();
    let v2_bytes = snapshot(&tree);
    let p = f.prepare(&other).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((p.state.version.as_str(), p.state.patches.len(), p.state.api), ("v1", 1, Api::Unknown));
    assert_eq!(p.removed, ["include/linux/multipath.h", "lib/multipath.c"]);
    assert_eq!(p.written, ["lib/Kconfig", "lib/Makefile", "lib/extra/x.c"]);
    for f2 in ["lib/Kconfig", "lib/Makefile"] {
        assert_eq!(read(&tree.join(f2)), read(&f.base.join(f2)), "{f2} restored from base");
    }
    assert!(!tree.join("lib/multipath.c").exists() && !tree.join("include/linux/multipath.h").exists());
    assert_eq!(read(&tree.join("lib/extra/x.c")), b"/* extra */\nint extra;\n");
    assert!(p.state.shim.is_empty());

    let back = f.prepare(&v2).unwrap();
    assert_eq!(back.removed, ["lib/extra/x.c"]);
    assert!(!tree.join("lib/extra").exists(), "directory the base lacks is pruned");
    for f2 in FILES {
        assert_eq!(read(&tree.join(f2)), v2_bytes[f2].0);
    }
}

#[test]
fn v2_is_byte_identical_to_the_hand_built_tree() {
    let hand = series::default_cache().join("series/linux-source-6.12");
    if !hand.join("lib/multipath.c").is_file() {
        eprintln!("SKIP: {} absent; byte comparison with the hand-built tree skipped", hand.join("lib/multipath.c").display());
        return;
    }
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_612)) else { return };
    let p = f.prepare(&v2).unwrap();
    for file in ["lib/multipath.c", "include/linux/multipath.h", "lib/Kconfig"] {
        assert!(read(&p.tree.join(file)) == read(&hand.join(file)), "{file} differs from {}", hand.join(file).display());
    }
}

#[test]
fn partial_v3_is_incomplete_and_names_the_missing_patches() {
    let Some(v3) = series_dir("v3") else { return };
    let f = fake_in(TempDir::new().unwrap(), "base", GETGEO_612, false).unwrap();
    let e = f.prepare(&v3).unwrap_err();
    assert!(matches!(e, SeriesError::Incomplete { .. }), "{e:?}");
    assert_eq!(e.to_string(), format!("{}: incomplete series: v3 has 4 of 13 patches (missing 01 03 04 06 08 09 11 12 13)", v3.display()));
    assert!(!f.cache.join("series/linux-fake").exists(), "no scratch tree for a bad series");
}

#[test]
fn an_mbox_prepares_to_the_same_bytes_as_the_directory() {
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_612)) else { return };
    let mut names: Vec<PathBuf> = fs::read_dir(&v2).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    assert_eq!(names.len(), 14);
    let mut mbox = Vec::new();
    for n in &names {
        mbox.extend_from_slice(b"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n");
        mbox.extend_from_slice(&read(n));
    }
    let mbox_path = f.tmp.path().join("v2.mbx");
    fs::write(&mbox_path, &mbox).unwrap();

    let from_dir = f.prepare(&v2).unwrap();
    let dir_bytes = snapshot(&from_dir.tree);
    let other = fake_in(TempDir::new().unwrap(), "base", GETGEO_612, true).unwrap();
    let from_mbox = other.prepare(&mbox_path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_mbox.state.patches.len(), 13);
    assert_eq!(from_mbox.state.sha256, from_dir.state.sha256, "same patch bytes, same identity");
    assert_eq!(from_mbox.state.api, Api::V2);
    assert_eq!(from_mbox.state.title, "libmultipath: a generic multipath lib for block drivers");
    assert!(from_mbox.state.patches[0].file.starts_with(&format!("{}:", mbox_path.display())), "{}", from_mbox.state.patches[0].file);
    assert!(from_mbox.state.patches[0].notes.iter().any(|n| n.starts_with("lib/Kconfig hunk 1 applied with fuzz")));
    for file in FILES {
        assert!(read(&from_mbox.tree.join(file)) == dir_bytes[file].0, "{file}");
    }
    // the mbox on the tree the directory prepared: no file to write
    let same = f.prepare(&mbox_path).unwrap();
    assert!(same.written.is_empty() && same.removed.is_empty());
}

#[test]
fn a_corrupted_patch_fails_naming_it_and_leaves_the_tree_alone() {
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_612)) else { return };
    let bad = f.tmp.path().join("v2-bad");
    fs::create_dir_all(&bad).unwrap();
    let mut corrupted = 0;
    for e in fs::read_dir(&v2).unwrap() {
        let p = e.unwrap().path();
        let mut text = fs::read_to_string(&p).unwrap();
        if p.file_name().unwrap().to_string_lossy().starts_with("0007-") {
            assert!(text.contains("\n-\treturn false;\n"));
            text = text.replace("\n-\treturn false;\n", "\n-\treturn true; /* not in the tree */\n");
            corrupted += 1;
        }
        fs::write(bad.join(p.file_name().unwrap()), text).unwrap();
    }
    assert_eq!(corrupted, 1);
    // on a fresh cache: no scratch tree at all
    let e = f.prepare(&bad).unwrap_err();
    assert!(matches!(e, SeriesError::DoesNotApply { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("0007-libmultipath-Add-delayed-removal-support.patch: patch 07/13 does not apply: lib/multipath.c: Hunk #"), "{msg}");
    assert!(msg.contains("FAILED") && !msg.contains('\n'), "{msg}");
    assert!(!f.cache.join("series/linux-fake").exists());
    // on a prepared tree: untouched
    f.prepare(&v2).unwrap();
    let tree = f.scratch();
    let before = snapshot(&tree);
    let state_before = read(&sidecar(&tree, ".mpv-series.json"));
    assert!(f.prepare(&bad).is_err());
    assert_eq!(snapshot(&tree), before);
    assert_eq!(read(&sidecar(&tree, ".mpv-series.json")), state_before);
}

#[test]
fn a_base_with_the_newer_getgeo_gets_no_shim() {
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_NEW)) else { return };
    let p = f.prepare(&v2).unwrap();
    assert!(!p.state.shim.iter().any(|s| s.contains("getgeo")), "{:?}", p.state.shim);
    let c = String::from_utf8(read(&p.tree.join("lib/multipath.c"))).unwrap();
    assert!(!c.contains(SHIM_MARK));
    assert!(c.contains("static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n"));
    assert!(c.contains("fops->getgeo(\n\t\t\t\t\tmpath_device->disk, geo);"));
}

#[test]
fn an_existing_hand_made_tree_is_adopted_without_rewrites() {
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_612)) else { return };
    // what prepare gives, made elsewhere
    let reference = fake_in(TempDir::new().unwrap(), "base", GETGEO_612, true).unwrap();
    let want = reference.prepare(&v2).unwrap();
    // the hand-made tree: base + the series + test wiring in lib/Makefile, no marker, no state
    let tree = f.cache.join("series/linux-fake");
    fs::create_dir_all(tree.parent().unwrap()).unwrap();
    assert!(Command::new("cp").arg("-a").arg(&f.base).arg(&tree).status().unwrap().success());
    for file in FILES {
        fs::copy(want.tree.join(file), tree.join(file)).unwrap();
    }
    let mut mk = read(&tree.join("lib/Makefile"));
    mk.extend_from_slice(b"\nobj-$(CONFIG_MPATH_VERIFY_LIB_KUNIT_TEST)\t+= mpv_lib_test.o\n");
    fs::write(tree.join("lib/Makefile"), &mk).unwrap();
    let before = snapshot(&tree);

    let p = f.prepare(&v2).unwrap();
    assert_eq!(p.tree_action, TreeAction::Adopted);
    assert!(p.written.is_empty(), "{:?}", p.written);
    assert_eq!(p.unchanged, ["include/linux/multipath.h", "lib/Kconfig", "lib/multipath.c"]);
    assert_eq!(p.conflicts.len(), 1);
    assert!(p.conflicts[0].starts_with("lib/Makefile: "));
    assert_eq!(snapshot(&tree), before, "nothing rewritten, mtimes kept");
    assert!(sidecar(&tree.canonicalize().unwrap(), ".mpv-base").is_file());
    assert_eq!(series::read_state(&tree).unwrap().api, Api::V2);
    // stable: the same conflict again, still nothing written
    let again = f.prepare(&v2).unwrap();
    assert!(again.already_prepared && again.conflicts.len() == 1);
    // --force rewrites it to what the series gives
    let mut o = f.opts(Source::Series(v2.clone()));
    o.force = true;
    let forced = series::prepare(&o).unwrap();
    assert_eq!(forced.written, ["lib/Makefile"]);
    assert_eq!(read(&tree.join("lib/Makefile")), read(&want.tree.join("lib/Makefile")));
    assert_eq!(mtime(&tree.join("lib/multipath.c")), before["lib/multipath.c"].1);
}

#[test]
fn a_scratch_tree_of_another_base_is_refused() {
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_612)) else { return };
    f.prepare(&v2).unwrap();
    // same basename, other directory, same cache
    let tmp2 = TempDir::new().unwrap();
    let g = fake_in(tmp2, "elsewhere", GETGEO_612, true).unwrap();
    let o = PrepareOpts { source: Source::Series(v2.clone()), kernel_src: g.base.clone(), cache: f.cache.clone(), force: false };
    let e = series::prepare(&o).unwrap_err();
    assert!(matches!(e, SeriesError::Kernel { .. }), "{e:?}");
    assert!(e.to_string().contains("was made from") && e.to_string().contains(&f.base.canonicalize().unwrap().display().to_string()), "{e}");
}

/// A kunit run wires its files into the base tree in place and restores
/// them at the end: `series prepare` must not copy a base while a run holds
/// it (it waits for the run's lock), nor a base an interrupted run left wired.
#[test]
fn the_base_is_copied_only_when_no_kunit_run_holds_it() {
    use std::os::unix::io::AsRawFd;
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_612)) else { return };
    // an interrupted run's backup beside the base: refused, nothing created
    let backup = sidecar(&f.base, ".mpv-backup");
    fs::write(&backup, "").unwrap();
    let e = f.prepare(&v2).unwrap_err();
    assert!(matches!(e, SeriesError::Kernel { .. }), "{e:?}");
    assert!(e.to_string().contains("interrupted kunit run left its wiring in the base tree"), "{e}");
    assert!(!f.cache.join("series/linux-fake").exists(), "no scratch copy of a wired base");
    fs::remove_file(&backup).unwrap();
    // a run holds the base's lock: prepare waits until it is released
    let lock = fs::OpenOptions::new().create(true).append(true).open(sidecar(&f.base, ".mpv-lock")).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    let opts = f.opts(Source::Series(v2.clone()));
    let worker = std::thread::spawn(move || series::prepare(&opts).map(|p| p.tree));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!worker.is_finished(), "prepare copied the base while a kunit run held it");
    assert!(!f.cache.join("series/linux-fake").exists());
    drop(lock);
    let tree = worker.join().unwrap().unwrap();
    assert!(tree.join("lib/multipath.c").is_file(), "the series went into the copy once the lock was released");
}

#[test]
fn missing_base_tree_is_exit_3() {
    let Some(v2) = series_dir("v2") else { return };
    let tmp = TempDir::new().unwrap();
    let o = PrepareOpts { source: Source::Series(v2), kernel_src: tmp.path().join("nope"), cache: tmp.path().join("cache"), force: false };
    let e = series::prepare(&o).unwrap_err();
    assert!(matches!(e, SeriesError::Kernel { .. }), "{e:?}");
    assert!(e.to_string().starts_with(&format!("{}: base tree: no such directory", tmp.path().join("nope").display())), "{e}");
}

#[test]
fn malformed_series_are_bad_input() {
    let f = fake_in(TempDir::new().unwrap(), "base", GETGEO_612, false).unwrap();
    let diff = "---\ndiff --git a/lib/x.c b/lib/x.c\nnew file mode 100644\n--- /dev/null\n+++ b/lib/x.c\n@@ -0,0 +1 @@\n+int x;\n";
    let case = |name: &str, mails: &[(&str, String)]| -> SeriesError {
        let d = f.tmp.path().join(name);
        for (file, text) in mails {
            write(&d.join(file), text);
        }
        let e = f.prepare(&d).unwrap_err();
        assert!(matches!(e, SeriesError::BadSeries { .. }), "{e:?}");
        assert!(!e.to_string().contains('\n'));
        e
    };
    let e = case("notag", &[("a.patch", format!("Subject: add x\n\n{diff}"))]);
    assert!(e.to_string().contains("a.patch: Subject \"add x\" has no [PATCH ...] tag"), "{e}");
    let e = case("dup", &[("a.patch", format!("Subject: [PATCH 1/2] a\n\n{diff}")), ("b.patch", format!("Subject: [PATCH 1/2] b\n\n{diff}"))]);
    assert!(e.to_string().contains("patch 01/02 appears twice"), "{e}");
    let e = case("mixed", &[("a.patch", format!("Subject: [PATCH 1/2] a\n\n{diff}")), ("b.patch", format!("Subject: [PATCH v2 2/2] b\n\n{diff}"))]);
    assert!(e.to_string().ends_with("mixed versions: v1, v2"), "{e}");
    let e = case("evil", &[("a.patch", "Subject: [PATCH] a\n\n---\ndiff --git a/../x b/../x\n".to_string())]);
    assert!(e.to_string().contains("unsafe path"), "{e}");
    let e = case("nodiff", &[("a.patch", "Subject: [PATCH 0/1] cover\n\nhello\n".to_string())]);
    assert!(e.to_string().contains("no patches"), "{e}");
    let missing = f.tmp.path().join("does-not-exist");
    let e = f.prepare(&missing).unwrap_err();
    assert!(matches!(e, SeriesError::BadSeries { .. }), "{e:?}");
    assert!(e.to_string().starts_with(&format!("{}: cannot read series", missing.display())));
}

#[test]
fn tree_mode_validates_without_modifying() {
    let (Some(v2), Some(f)) = (series_dir("v2"), fake(GETGEO_612)) else { return };
    let p = f.prepare(&v2).unwrap();
    let before = snapshot(&p.tree);
    let t = series::prepare(&f.opts(Source::Tree(p.tree.clone()))).unwrap();
    assert_eq!((t.tree_action, t.state.api, t.state.series.as_str()), (TreeAction::Given, Api::V2, "v2"));
    assert_eq!(snapshot(&p.tree), before);

    // a user's tree carrying v2 without the shim, on 6.12: refused, not edited
    let user = f.tmp.path().join("user/linux");
    fs::create_dir_all(user.parent().unwrap()).unwrap();
    assert!(Command::new("cp").arg("-a").arg(&f.base).arg(&user).status().unwrap().success());
    let g = fake_in(TempDir::new().unwrap(), "base", GETGEO_NEW, true).unwrap();
    let unshimmed = g.prepare(&v2).unwrap();
    for file in FILES {
        fs::copy(unshimmed.tree.join(file), user.join(file)).unwrap();
    }
    let e = series::prepare(&f.opts(Source::Tree(user.clone()))).unwrap_err();
    assert!(matches!(e, SeriesError::Kernel { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with(&format!("{}: needs the 6.12 compatibility shim", user.canonicalize().unwrap().join("lib/multipath.c").display())),
        "{e}"
    );
    assert_eq!(read(&user.join("lib/multipath.c")), read(&unshimmed.tree.join("lib/multipath.c")));
    // without state, read_state still gives the api from the header
    let st = series::read_state(&user).unwrap();
    assert!(!st.is_prepared());
    assert_eq!(st.api, Api::V2);
    // a tree without the series
    let e = series::prepare(&f.opts(Source::Tree(f.base.clone()))).unwrap_err();
    assert!(matches!(e, SeriesError::Kernel { .. }), "{e:?}");
    assert!(e.to_string().contains("does not carry the libmultipath series"), "{e}");
    assert!(series::read_state(&f.base).is_none());
}

#[test]
fn cli_prints_the_tree_last_and_maps_errors_to_exit_codes() {
    let (Some(v2), Some(v3), Some(f)) = (series_dir("v2"), series_dir("v3"), fake(GETGEO_612)) else { return };
    let bin = env!("CARGO_BIN_EXE_mpath-verify");
    let run =
        |args: &[&str]| Command::new(bin).args(["series", "prepare", "--kernel-src"]).arg(&f.base).arg("--cache").arg(&f.cache).args(args).output().unwrap();
    let o = run(&["--series", v2.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().last().unwrap(), f.scratch().display().to_string());
    assert!(
        out.contains("0001: lib/Kconfig hunk 1 applied with fuzz")
            && out.contains("api: v2")
            && out.contains("shim: report_zones: not shimmed (CONFIG_BLK_DEV_ZONED off)"),
        "{out}"
    );
    let o = run(&["--series", v2.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((j["api"].as_str(), j["version"].as_str(), j["already_prepared"].as_bool()), (Some("v2"), Some("v2"), Some(true)));
    assert_eq!(j["tree"].as_str().unwrap(), f.scratch().display().to_string());
    let o = run(&["--series", v3.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("incomplete series: v3 has 4 of 13 patches"), "{err}");
    let o = Command::new(bin)
        .args(["series", "prepare", "--series", v2.to_str().unwrap(), "--kernel-src", "/nonexistent/linux", "--cache"])
        .arg(&f.cache)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
}
