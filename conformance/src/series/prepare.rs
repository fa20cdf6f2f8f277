//! `prepare`: sync the staged series into the scratch tree (made once,
//! under the tree's lock), or validate a tree given with `--tree`.

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Component, Path};
use std::process::{Command, Stdio};

use super::apply::*;
use super::mail::*;
use super::shim::*;
use super::state::*;

/// Prepares (or, for `Source::Tree`, validates) a tree carrying the series.
pub fn prepare(opts: &PrepareOpts) -> Result<Prepared, SeriesError> {
    match &opts.source {
        Source::Tree(t) => validate_tree(t),
        Source::Series(s) => prepare_series(s, opts),
    }
}

pub(super) fn write_atomic(path: &Path, content: &[u8]) -> Result<(), SeriesError> {
    let dir = path.parent().ok_or_else(|| SeriesError::kernel(path, "no parent directory"))?;
    fs::create_dir_all(dir).map_err(|e| SeriesError::kernel(dir, format!("cannot create: {e}")))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.mpv-tmp.{}", std::process::id()));
    let res = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        if let Ok(m) = fs::metadata(path) {
            fs::set_permissions(&tmp, m.permissions())?;
        }
        fs::rename(&tmp, path)
    })();
    res.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        SeriesError::kernel(path, format!("cannot write: {e}"))
    })
}

/// Writes `content` to `path` unless it is already there; whether it wrote.
pub(super) fn write_if_changed(path: &Path, content: &[u8]) -> Result<bool, SeriesError> {
    if fs::read(path).ok().as_deref() == Some(content) {
        return Ok(false);
    }
    write_atomic(path, content)?;
    Ok(true)
}

pub(super) fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, SeriesError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SeriesError::kernel(path, format!("cannot read: {e}"))),
    }
}

/// Removes the empty directories above `file` in `tree` that BASE lacks.
pub(super) fn prune_dirs(tree: &Path, base: &Path, rel: &str) {
    let mut p = Path::new(rel).parent();
    while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
        if base.join(d).exists() || fs::remove_dir(tree.join(d)).is_err() {
            break;
        }
        p = d.parent();
    }
}

pub(super) struct Lock(#[allow(dead_code)] fs::File);

/// The lock `kunit run` holds on a tree (run-kunit.sh's `$TREE.mpv-lock`).
pub(super) fn lock(tree: &Path) -> Result<Lock, SeriesError> {
    use std::os::unix::io::AsRawFd;
    let path = sidecar(tree, LOCK_SUFFIX);
    let f = fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| SeriesError::kernel(&path, format!("cannot create lock file: {e}")))?;
    // SAFETY: flock on a file descriptor this function owns.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        eprintln!("series: waiting for a kunit run on {} to finish", tree.display());
        // SAFETY: as above.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(SeriesError::kernel(&path, format!("cannot lock: {}", std::io::Error::last_os_error())));
        }
    }
    Ok(Lock(f))
}

/// Copies BASE to `scratch` (through a temporary name) unless it exists.
pub(super) fn create_scratch(base: &Path, scratch: &Path) -> Result<bool, SeriesError> {
    if scratch.exists() {
        if !scratch.is_dir() {
            return Err(SeriesError::kernel(scratch, "scratch tree path exists and is not a directory"));
        }
        return Ok(false);
    }
    let name = scratch.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let parent = scratch.parent().ok_or_else(|| SeriesError::kernel(scratch, "no parent directory"))?;
    let tmp = parent.join(format!(".{name}.tmp.{}", std::process::id()));
    // A kunit run on BASE wires its files in place and restores them at the
    // end: copy only while no run holds BASE, and never a tree an interrupted
    // run left wired (its backup sidecar exists until the next run restores).
    let _base_lock = lock(base)?;
    let base_backup = sidecar(base, BACKUP_SUFFIX);
    if base_backup.exists() {
        return Err(SeriesError::kernel(
            base,
            format!("an interrupted kunit run left its wiring in the base tree ({} exists); the next `kunit run` on it restores it", base_backup.display()),
        ));
    }
    if tmp.exists() {
        let _ = fs::remove_dir_all(&tmp);
    }
    let out = Command::new("cp").args(["-a", "--reflink=auto"]).arg(base).arg(&tmp).stdin(Stdio::null()).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            let _ = fs::remove_dir_all(&tmp);
            let err = String::from_utf8_lossy(&o.stderr);
            return Err(SeriesError::kernel(scratch, format!("cannot copy base tree {}: {}", base.display(), err.lines().next().unwrap_or("cp failed"))));
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(SeriesError::kernel(scratch, format!("cannot run cp: {e}")));
        }
    }
    fs::rename(&tmp, scratch).map_err(|e| {
        let _ = fs::remove_dir_all(&tmp);
        SeriesError::kernel(scratch, format!("cannot rename the copy into place: {e}"))
    })?;
    Ok(true)
}

pub(super) fn prepare_series(series_path: &Path, opts: &PrepareOpts) -> Result<Prepared, SeriesError> {
    let base = check_linux_tree(&opts.kernel_src, "base")?;
    let series = read_series(series_path)?;
    let mut hasher = Sha256::new();
    for p in &series.patches {
        hasher.update(&p.mail.bytes);
    }
    let sha256 = format!("{:x}", hasher.finalize());

    // Everything that can fail on the series fails here, before the scratch tree is touched.
    let (mut staged, records) = stage(&series, &base)?;
    let shim = apply_shim(&series, &base, &mut staged)?;
    let api = match staged.get(LIB_H) {
        Some(Some(h)) => Api::detect(h),
        _ => Api::detect_tree(&base),
    };

    let base_name = base.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "linux".into());
    let series_dir = opts.cache.join("series");
    fs::create_dir_all(&series_dir).map_err(|e| SeriesError::kernel(&series_dir, format!("cannot create: {e}")))?;
    let series_dir = series_dir.canonicalize().map_err(|e| SeriesError::kernel(&series_dir, e.to_string()))?;
    let scratch = series_dir.join(&base_name);
    let marker = sidecar(&scratch, MARKER_SUFFIX);
    let state_file = sidecar(&scratch, STATE_SUFFIX);

    let _lock = lock(&scratch)?;
    let backup = sidecar(&scratch, BACKUP_SUFFIX);
    if backup.exists() {
        return Err(SeriesError::kernel(
            &scratch,
            format!("an interrupted kunit run left its wiring in this tree ({} exists); the next `kunit run` on it restores it", backup.display()),
        ));
    }
    let base_str = disp(&base);
    let prev: Option<State> = fs::read(&state_file).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let marker_text = fs::read_to_string(&marker).ok();
    if let Some(m) = &marker_text {
        if m.trim_end() != base_str {
            return Err(SeriesError::kernel(
                &scratch,
                format!("scratch tree was made from {} (per {}), not from {base_str}; use another --cache", m.trim_end(), marker.display()),
            ));
        }
    } else if let Some(p) = prev.as_ref().filter(|p| !p.base.is_empty() && p.base != base_str) {
        return Err(SeriesError::kernel(
            &scratch,
            format!("scratch tree was made from {} (per {}), not from {base_str}; use another --cache", p.base, state_file.display()),
        ));
    }
    let created = create_scratch(&base, &scratch)?;
    let tree_action = if created {
        TreeAction::Created
    } else if marker_text.is_none() && prev.is_none() {
        TreeAction::Adopted
    } else {
        TreeAction::Existing
    };
    let marker_written = write_if_changed(&marker, format!("{base_str}\n").as_bytes())?;

    // Sync: the files this series touches, and those the previous one did.
    let Synced { written, removed, unchanged, conflicts } = sync_files(&base, &scratch, &staged, prev.as_ref(), opts.force)?;

    let state = State {
        series: series.name.clone(),
        series_path: disp(&series.path),
        title: series.title.clone(),
        sha256,
        version: series.version.clone(),
        base: base_str,
        patches: records,
        files: staged.keys().cloned().collect(),
        hashes: staged.iter().filter_map(|(f, c)| c.as_ref().map(|c| (f.clone(), sha256_hex(c)))).collect(),
        shim,
        api,
    };
    let mut json = serde_json::to_string_pretty(&state).map_err(|e| SeriesError::kernel(&state_file, e.to_string()))?;
    json.push('\n');
    let state_written = write_if_changed(&state_file, json.as_bytes())?;
    let already_prepared = !created && !marker_written && !state_written && written.is_empty() && removed.is_empty();
    Ok(Prepared { tree: scratch, state, tree_action, already_prepared, written, removed, unchanged, conflicts })
}

/// What a sync did, file by file.
struct Synced {
    written: Vec<String>,
    removed: Vec<String>,
    unchanged: Vec<String>,
    conflicts: Vec<String>,
}

/// Brings `scratch`'s copy of every file the series stages, and of every
/// file the previous series staged (`prev`), to what this series gives
/// (BASE's content, or no file, where it gives nothing). A file that
/// differs and was not written by prepare is left as is (a conflict)
/// unless `force`.
fn sync_files(base: &Path, scratch: &Path, staged: &Staged, prev: Option<&State>, force: bool) -> Result<Synced, SeriesError> {
    let prev_hashes = prev.map(|p| p.hashes.clone()).unwrap_or_default();
    let mut all: BTreeSet<String> = staged.keys().cloned().collect();
    if let Some(p) = prev {
        for f in &p.files {
            // the state file is ours, but only ever follow safe relative paths from it
            if Path::new(f).components().all(|c| matches!(c, Component::Normal(_))) && !f.is_empty() {
                all.insert(f.clone());
            }
        }
    }
    let mut out = Synced { written: Vec::new(), removed: Vec::new(), unchanged: Vec::new(), conflicts: Vec::new() };
    for f in &all {
        let base_content = read_opt(&base.join(f))?;
        let desired: Option<Vec<u8>> = match staged.get(f) {
            Some(c) => c.clone(),
            None => base_content.clone(),
        };
        let target = scratch.join(f);
        let current = read_opt(&target)?;
        if current == desired {
            out.unchanged.push(f.clone());
            continue;
        }
        let ours = current.as_ref().is_some_and(|c| prev_hashes.get(f).is_some_and(|h| *h == sha256_hex(c)));
        let safe = current.is_none() || current == base_content || ours || force;
        if !safe {
            out.conflicts.push(format!(
                "{f}: differs from what the series gives and was not written by prepare (local edits or test wiring?); left as is (--force overwrites it)"
            ));
            continue;
        }
        match &desired {
            Some(c) => {
                write_atomic(&target, c)?;
                out.written.push(f.clone());
            }
            None => {
                fs::remove_file(&target).map_err(|e| SeriesError::kernel(&target, format!("cannot remove: {e}")))?;
                prune_dirs(scratch, base, f);
                out.removed.push(f.clone());
            }
        }
    }
    Ok(out)
}

pub(super) fn validate_tree(tree: &Path) -> Result<Prepared, SeriesError> {
    let tree = check_linux_tree(tree, "--tree")?;
    for f in [LIB_C, LIB_H] {
        if !tree.join(f).is_file() {
            return Err(SeriesError::kernel(
                &tree,
                format!("tree does not carry the libmultipath series (no {f}); `series prepare --series DIR` stands one up"),
            ));
        }
    }
    let c = fs::read(tree.join(LIB_C)).map_err(|e| SeriesError::kernel(tree.join(LIB_C), format!("cannot read: {e}")))?;
    let h = fs::read(tree.join(LIB_H)).map_err(|e| SeriesError::kernel(tree.join(LIB_H), format!("cannot read: {e}")))?;
    let blkdev = fs::read(tree.join(BLKDEV_H)).unwrap_or_default();
    if needs_getgeo_shim(&blkdev, &c) {
        return Err(SeriesError::kernel(
            tree.join(LIB_C),
            "needs the 6.12 compatibility shim (mpath_bdev_getgeo takes a struct gendisk *, this tree's getgeo a struct block_device *); mpath-verify does not edit your tree: `series prepare --series DIR` prepares a scratch copy",
        ));
    }
    let mut state = read_state(&tree).unwrap_or_default();
    state.api = Api::detect(&h);
    let mut shim = Vec::new();
    if find(&c, SHIM_MARK.as_bytes()).is_some() {
        shim.push(format!("{LIB_C}: carries the mpath-verify 6.12 shim"));
    }
    if (find(&c, REPORT_ZONES_ARGS).is_some() || find(&h, REPORT_ZONES_ARGS).is_some()) && find(&blkdev, REPORT_ZONES_ARGS).is_none() {
        shim.push("report_zones: not shimmed (CONFIG_BLK_DEV_ZONED off)".to_string());
    }
    if !state.is_prepared() {
        state.shim = shim;
        state.files = vec![LIB_H.to_string(), LIB_C.to_string()];
    }
    Ok(Prepared { tree, state, tree_action: TreeAction::Given, already_prepared: true, written: vec![], removed: vec![], unchanged: vec![], conflicts: vec![] })
}
