//! What a prepared tree is: the errors, the series API a tree declares,
//! the state recorded next to the tree, the options and the report of
//! `prepare`, and the paths it works with.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use thiserror::Error;

/// The comment the shim leaves on the line it adds.
pub const SHIM_MARK: &str = "/* mpath-verify 6.12 shim */";
/// Suffix of the marker file next to the scratch tree (BASE's path).
pub const MARKER_SUFFIX: &str = ".mpv-base";
/// Suffix of the state file next to the tree.
pub const STATE_SUFFIX: &str = ".mpv-series.json";
/// Suffix of the lock file next to the tree (shared with run-kunit.sh).
pub const LOCK_SUFFIX: &str = ".mpv-lock";
/// Suffix of the backup directory an interrupted `kunit run` leaves.
pub const BACKUP_SUFFIX: &str = ".mpv-backup";

/// Files the shim and the API detection look at.
pub(super) const LIB_C: &str = "lib/multipath.c";
pub(super) const LIB_H: &str = "include/linux/multipath.h";
pub(super) const BLKDEV_H: &str = "include/linux/blkdev.h";
/// The longest series accepted (a bound on what a Subject can make us list).
pub(super) const MAX_PATCHES: u32 = 999;

/// Why prepare failed; one line naming the file (and patch) and the reason.
#[derive(Debug, Error)]
pub enum SeriesError {
    /// The series cannot be read or is malformed.
    #[error("{path}: {reason}")]
    BadSeries { path: String, reason: String },
    /// Some patches of the series are missing.
    #[error("{path}: incomplete series: {version} has {have} of {total} patches (missing {missing})")]
    Incomplete { path: String, version: String, have: usize, total: u32, missing: String },
    /// A patch does not apply to the base tree (with the earlier patches).
    #[error("{file}: patch {number} does not apply: {reason}")]
    DoesNotApply { file: String, number: String, reason: String },
    /// The base needs the 6.12 shim and one of its anchors is not there.
    #[error("{file}: shim: {reason}")]
    Shim { file: String, reason: String },
    /// The base tree, the scratch tree or a `--tree` tree is missing or unusable.
    #[error("{path}: {reason}")]
    Kernel { path: String, reason: String },
    /// GNU patch cannot be run.
    #[error("patch: {reason}")]
    Tool { reason: String },
}

impl SeriesError {
    pub(super) fn bad(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        SeriesError::BadSeries { path: disp(path.as_ref()), reason: one_line(reason.into()) }
    }

    pub(super) fn bad_at(origin: &str, reason: impl Into<String>) -> Self {
        SeriesError::BadSeries { path: origin.to_string(), reason: one_line(reason.into()) }
    }

    pub(super) fn kernel(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        SeriesError::Kernel { path: disp(path.as_ref()), reason: one_line(reason.into()) }
    }
}

pub(super) fn one_line(s: String) -> String {
    if s.contains('\n') || s.contains('\r') {
        s.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
    } else {
        s
    }
}

pub(super) fn disp(p: &Path) -> String {
    p.display().to_string()
}

/// Which call signatures the series' header declares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// `void mpath_delete_device(struct mpath_head *, struct mpath_device *)`.
    V1,
    /// `bool mpath_delete_device(struct mpath_device *)`.
    V2,
    #[default]
    Unknown,
}

impl Api {
    /// From the text of `include/linux/multipath.h`.
    pub fn detect(header: &[u8]) -> Api {
        if find(header, b"bool mpath_delete_device(struct mpath_device *").is_some() {
            Api::V2
        } else if find(header, b"mpath_delete_device(struct mpath_head *").is_some() {
            Api::V1
        } else {
            Api::Unknown
        }
    }

    /// From a tree's `include/linux/multipath.h` (Unknown when absent).
    pub fn detect_tree(tree: &Path) -> Api {
        fs::read(tree.join(LIB_H)).map(|h| Api::detect(&h)).unwrap_or(Api::Unknown)
    }

    pub fn name(self) -> &'static str {
        match self {
            Api::V1 => "v1",
            Api::V2 => "v2",
            Api::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One applied patch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchRecord {
    /// NN of `[PATCH vN NN/MM]`.
    pub number: u32,
    /// Where the mail came from: a file, or `mbox:line` for a message of an mbox.
    pub file: String,
    /// The Subject, tag included.
    pub subject: String,
    /// GNU patch's fuzz/offset lines, e.g. `lib/Kconfig hunk 1 applied with fuzz 2 (offset 142 lines)`.
    pub notes: Vec<String>,
}

/// What a tree carries: the state file next to a prepared tree, or (for a
/// tree prepared elsewhere) only the API read from its header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The series' name (the basename of `--series`); empty when the tree
    /// was not prepared by mpath-verify.
    pub series: String,
    /// Canonical path of `--series`.
    pub series_path: String,
    /// The cover letter's subject without its tag (empty without a cover letter).
    pub title: String,
    /// sha256 of the patch mails' bytes, in order (an mbox's `From ` lines excluded).
    pub sha256: String,
    /// `v1`, `v2`, ... (from the Subject tags).
    pub version: String,
    /// Canonical path of the base tree.
    pub base: String,
    pub patches: Vec<PatchRecord>,
    /// Every file the series touches (relative to the tree).
    pub files: Vec<String>,
    /// sha256 of what prepare put (or would put) in each of `files`; absent
    /// for a file the series deletes.
    pub hashes: BTreeMap<String, String>,
    /// What the 6.12 shim changed, and what it deliberately did not.
    pub shim: Vec<String>,
    pub api: Api,
}

impl State {
    /// Whether mpath-verify prepared this tree from a series.
    pub fn is_prepared(&self) -> bool {
        !self.sha256.is_empty()
    }
}

/// What to prepare from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A directory of patch mails or an mbox.
    Series(PathBuf),
    /// A tree that already carries the series: only validated.
    Tree(PathBuf),
}

#[derive(Clone, Debug)]
pub struct PrepareOpts {
    pub source: Source,
    /// The unpacked Linux tree the scratch tree is copied from (never modified).
    pub kernel_src: PathBuf,
    /// Where `series/<basename(kernel_src)>` lives.
    pub cache: PathBuf,
    /// Overwrite files that were edited outside prepare.
    pub force: bool,
}

impl PrepareOpts {
    /// With the default base tree and cache.
    pub fn new(source: Source) -> Self {
        PrepareOpts { source, kernel_src: default_kernel_src(), cache: default_cache(), force: false }
    }
}

/// `$MPATH_KERNEL_CACHE`, else `~/.cache/mpath-verify`.
pub fn default_cache() -> PathBuf {
    if let Some(c) = std::env::var_os("MPATH_KERNEL_CACHE").filter(|c| !c.is_empty()) {
        return PathBuf::from(c);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp")).join(".cache/mpath-verify")
}

/// `default_cache()/linux-source-6.12` (what setup-kernel.sh unpacks).
pub fn default_kernel_src() -> PathBuf {
    default_cache().join("linux-source-6.12")
}

/// How the tree came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeAction {
    /// Copied from BASE now.
    Created,
    /// Existed with neither marker nor state: taken as a copy of BASE.
    Adopted,
    /// Prepared before from the same BASE.
    Existing,
    /// Given with `--tree`: validated only.
    Given,
}

/// The result of [`prepare`].
#[derive(Clone, Debug, Serialize)]
pub struct Prepared {
    /// The tree that carries the series.
    pub tree: PathBuf,
    #[serde(flatten)]
    pub state: State,
    pub tree_action: TreeAction,
    /// Nothing was written (tree, files, marker, state).
    pub already_prepared: bool,
    /// Files written into the tree (new or changed content).
    pub written: Vec<String>,
    /// Files deleted from the tree (not in BASE, no longer in the series).
    pub removed: Vec<String>,
    /// Files whose content was already right (mtime kept).
    pub unchanged: Vec<String>,
    /// Files edited outside prepare, left as is: `file: reason`.
    pub conflicts: Vec<String>,
}

impl Prepared {
    /// The human report, without the final tree line.
    pub fn report_lines(&self) -> Vec<String> {
        let s = &self.state;
        let mut out = Vec::new();
        if s.is_prepared() {
            out.push(format!(
                "series {}: {}, {} patches, sha256 {} ({})",
                s.series,
                s.version,
                s.patches.len(),
                &s.sha256[..s.sha256.len().min(12)],
                s.series_path
            ));
            if !s.title.is_empty() {
                out.push(format!("title: {}", s.title));
            }
            out.push(format!("base: {}", s.base));
            for p in &s.patches {
                for n in &p.notes {
                    out.push(format!("{:04}: {n}", p.number));
                }
            }
        } else {
            out.push("series: unknown (no state file: not prepared by mpath-verify)".to_string());
        }
        if s.shim.is_empty() {
            out.push("shim: none needed".to_string());
        }
        for l in &s.shim {
            out.push(format!("shim: {l}"));
        }
        out.push(format!("api: {}", s.api));
        match self.tree_action {
            TreeAction::Created => out.push("tree: created (copy of base)".to_string()),
            TreeAction::Adopted => out.push("tree: adopted (existed with no marker: taken as a copy of base; marker written)".to_string()),
            TreeAction::Existing => {}
            TreeAction::Given => out.push("tree: given (validated, not modified)".to_string()),
        }
        if self.tree_action != TreeAction::Given {
            let mut parts = Vec::new();
            for (v, what) in [(&self.written, "written"), (&self.removed, "removed"), (&self.unchanged, "unchanged")] {
                if !v.is_empty() {
                    parts.push(format!("{what} {}", v.join(" ")));
                }
            }
            if !self.conflicts.is_empty() {
                parts.push(format!("left as is {}", self.conflicts.iter().map(|c| c.split(':').next().unwrap_or(c)).collect::<Vec<_>>().join(" ")));
            }
            out.push(format!("files: {}", parts.join("; ")));
            for c in &self.conflicts {
                out.push(format!("warning: {c}"));
            }
            out.push(if self.already_prepared { "already prepared".to_string() } else { "prepared".to_string() });
        }
        out
    }
}

/// The state of `tree`: its state file (api re-read from the header), or,
/// for a tree carrying the series without one, only the detected api.
/// None when the tree has neither.
pub fn read_state(tree: &Path) -> Option<State> {
    let tree = tree.canonicalize().unwrap_or_else(|_| tree.to_path_buf());
    let state = fs::read(sidecar(&tree, STATE_SUFFIX)).ok().and_then(|b| serde_json::from_slice::<State>(&b).ok());
    let header = fs::read(tree.join(LIB_H)).ok();
    match (state, header) {
        (Some(mut s), Some(h)) => {
            s.api = Api::detect(&h);
            Some(s)
        }
        (Some(mut s), None) => {
            s.api = Api::Unknown;
            Some(s)
        }
        (None, Some(h)) => Some(State { api: Api::detect(&h), ..State::default() }),
        (None, None) => None,
    }
}

/// `<dir>/<name><suffix>`: a file next to `tree`, never inside it.
pub(super) fn sidecar(tree: &Path, suffix: &str) -> PathBuf {
    let mut name = tree.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    tree.parent().map(|p| p.join(&name)).unwrap_or_else(|| PathBuf::from(name))
}

pub(super) fn check_linux_tree(tree: &Path, what: &str) -> Result<PathBuf, SeriesError> {
    if !tree.is_dir() {
        let hint = if what == "base" { " (conformance/kunit/setup-kernel.sh unpacks Linux 6.12 into the cache)" } else { "" };
        return Err(SeriesError::kernel(tree, format!("{what} tree: no such directory{hint}")));
    }
    for f in ["Makefile", "tools/testing/kunit/kunit.py"] {
        if !tree.join(f).is_file() {
            return Err(SeriesError::kernel(tree, format!("{what} tree: not a Linux source tree (no {f})")));
        }
    }
    tree.canonicalize().map_err(|e| SeriesError::kernel(tree, format!("{what} tree: {e}")))
}

/// A path from a diff header, `-p1` stripped; None for /dev/null.
pub(super) fn diff_path(origin: &str, raw: &str) -> Result<Option<String>, SeriesError> {
    let raw = raw.split('\t').next().unwrap_or(raw).trim_end();
    if raw == "/dev/null" {
        return Ok(None);
    }
    if raw.starts_with('"') {
        return Err(SeriesError::bad_at(origin, format!("quoted file name {raw} in a diff header is not supported")));
    }
    let rel = match raw.split_once('/') {
        Some((_, rest)) => rest,
        None => return Err(SeriesError::bad_at(origin, format!("diff header path {raw:?} has no a/ or b/ prefix"))),
    };
    let p = Path::new(rel);
    let safe = !rel.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return Err(SeriesError::bad_at(origin, format!("unsafe path {raw:?} in a diff header")));
    }
    Ok(Some(rel.to_string()))
}

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
