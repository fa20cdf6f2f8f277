//! `mpath-verify series prepare`: stand up a kernel tree carrying a
//! libmultipath series, without touching the user's tree.
//!
//! The series (a directory of patch mails, or one mbox as `b4 am` writes
//! it) is checked for completeness, applied with GNU `patch` to copies of
//! the files it touches in a staging directory, given the 6.12
//! compatibility shim when the base tree needs it, and only then synced
//! into a scratch tree `$CACHE/series/<basename(BASE)>`: a copy of BASE
//! made once (`cp -a --reflink=auto`, renamed into place). A file whose
//! content is already right is not written, so its mtime stays and kbuild
//! does not rebuild it; switching series swaps only the files the two
//! series touch. Two files next to the tree (never inside it) record what
//! it is: `<tree>.mpv-base` (BASE's canonical path) and
//! `<tree>.mpv-series.json` (the [`State`]). Prepare takes the same lock
//! as `kunit run` (`<tree>.mpv-lock`), so it never swaps a series under a
//! running build.
//!
//! A file in the scratch tree whose content is neither BASE's, nor what
//! prepare last wrote there, nor what it would write now, was edited by
//! someone else (a hand-made tree, test wiring left in): it is left as is
//! and reported, unless `force`.

use crate::exit::Exit;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
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

const GETGEO_612: &[u8] = b"int (*getgeo)(struct block_device *";
const GETGEO_SERIES: &[u8] = b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)";
const GETGEO_SERIES_OPEN: &[u8] = b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n";
const GETGEO_SHIMMED_OPEN: &[u8] = b"static int mpath_bdev_getgeo(struct block_device *bdev, struct hd_geometry *geo)\n{\n\tstruct gendisk *disk = bdev->bd_disk;\t/* mpath-verify 6.12 shim */\n";
const REPORT_ZONES_ARGS: &[u8] = b"struct blk_report_zones_args";
/// Files the shim and the API detection look at.
const LIB_C: &str = "lib/multipath.c";
const LIB_H: &str = "include/linux/multipath.h";
const BLKDEV_H: &str = "include/linux/blkdev.h";
/// The longest series accepted (a bound on what a Subject can make us list).
const MAX_PATCHES: u32 = 999;

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
    /// The process exit code for this error.
    pub fn exit(&self) -> Exit {
        match self {
            SeriesError::BadSeries { .. } | SeriesError::Incomplete { .. } | SeriesError::DoesNotApply { .. } | SeriesError::Shim { .. } => Exit::BadInput,
            SeriesError::Kernel { .. } | SeriesError::Tool { .. } => Exit::NoKernel,
        }
    }

    fn bad(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        SeriesError::BadSeries { path: disp(path.as_ref()), reason: one_line(reason.into()) }
    }

    fn bad_at(origin: &str, reason: impl Into<String>) -> Self {
        SeriesError::BadSeries { path: origin.to_string(), reason: one_line(reason.into()) }
    }

    fn kernel(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        SeriesError::Kernel { path: disp(path.as_ref()), reason: one_line(reason.into()) }
    }
}

fn one_line(s: String) -> String {
    if s.contains('\n') || s.contains('\r') {
        s.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
    } else {
        s
    }
}

fn disp(p: &Path) -> String {
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

/// Prepares (or, for `Source::Tree`, validates) a tree carrying the series.
pub fn prepare(opts: &PrepareOpts) -> Result<Prepared, SeriesError> {
    match &opts.source {
        Source::Tree(t) => validate_tree(t),
        Source::Series(s) => prepare_series(s, opts),
    }
}

// ---------------------------------------------------------------- paths

/// `<dir>/<name><suffix>`: a file next to `tree`, never inside it.
fn sidecar(tree: &Path, suffix: &str) -> PathBuf {
    let mut name = tree.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    tree.parent().map(|p| p.join(&name)).unwrap_or_else(|| PathBuf::from(name))
}

fn check_linux_tree(tree: &Path, what: &str) -> Result<PathBuf, SeriesError> {
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
fn diff_path(origin: &str, raw: &str) -> Result<Option<String>, SeriesError> {
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

// ---------------------------------------------------------------- mails

struct Mail {
    /// `dir/file` or `mbox:line`.
    origin: String,
    /// The mail's file on disk, when it is one (directory series).
    path: Option<PathBuf>,
    /// The mail without an mbox `From ` line.
    bytes: Vec<u8>,
    subject: String,
    /// Files its diff touches.
    touched: Vec<String>,
}

struct Patch {
    mail: Mail,
    number: u32,
}

struct Series {
    name: String,
    path: PathBuf,
    version: String,
    title: String,
    total: u32,
    patches: Vec<Patch>,
}

fn is_header_line(l: &[u8]) -> bool {
    let Some(colon) = l.iter().position(|&b| b == b':') else { return false };
    colon > 0
        && l[..colon].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        && matches!(l.get(colon + 1), None | Some(b' ') | Some(b'\t') | Some(b'\n') | Some(b'\r'))
}

fn is_blank(l: &[u8]) -> bool {
    l.iter().all(|b| b.is_ascii_whitespace())
}

/// Lines with their terminators.
fn lines(b: &[u8]) -> Vec<&[u8]> {
    b.split_inclusive(|&c| c == b'\n').collect()
}

/// Whether line `i` is an mbox separator: `From ` followed, within three
/// lines and before a blank one, by a mail header.
fn is_separator(ls: &[&[u8]], i: usize) -> bool {
    if !ls[i].starts_with(b"From ") {
        return false;
    }
    for l in ls.iter().skip(i + 1).take(3) {
        if is_blank(l) {
            return false;
        }
        if is_header_line(l) {
            return true;
        }
    }
    false
}

fn parse_mail(origin: String, path: Option<PathBuf>, bytes: Vec<u8>) -> Result<Mail, SeriesError> {
    let ls = lines(&bytes);
    let mut i = 0;
    if ls.first().is_some_and(|l| l.starts_with(b"From ")) {
        i = 1; // an mbox-style first line (git format-patch)
    }
    let mut subject: Option<String> = None;
    let mut in_subject = false;
    while i < ls.len() && !is_blank(ls[i]) {
        let l = String::from_utf8_lossy(ls[i]);
        let t = l.trim_end_matches(['\n', '\r']);
        if t.starts_with([' ', '\t']) {
            if in_subject {
                if let Some(s) = subject.as_mut() {
                    s.push(' ');
                    s.push_str(t.trim());
                }
            }
        } else {
            in_subject = false;
            if let Some((k, v)) = t.split_once(':') {
                if k.eq_ignore_ascii_case("subject") && subject.is_none() {
                    subject = Some(v.trim().to_string());
                    in_subject = true;
                }
            }
        }
        i += 1;
    }
    let mut touched: Vec<String> = Vec::new();
    let mut add = |p: Option<String>| {
        if let Some(p) = p {
            if !touched.contains(&p) {
                touched.push(p);
            }
        }
    };
    for l in &ls[i..] {
        let l = String::from_utf8_lossy(l);
        let l = l.trim_end_matches(['\n', '\r']);
        if let Some(rest) = l.strip_prefix("diff --git ") {
            let parts: Vec<&str> = rest.split(' ').collect();
            if parts.len() == 2 {
                add(diff_path(&origin, parts[0])?);
                add(diff_path(&origin, parts[1])?);
            }
        } else if let Some(rest) = l.strip_prefix("+++ ").or_else(|| l.strip_prefix("--- ")) {
            if rest.starts_with("a/") || rest.starts_with("b/") || rest.starts_with("/dev/null") {
                add(diff_path(&origin, rest)?);
            }
        }
    }
    Ok(Mail { origin, path, bytes, subject: subject.unwrap_or_default(), touched })
}

/// Mails of a directory (sorted names) or an mbox (file order).
fn read_mails(path: &Path) -> Result<Vec<Mail>, SeriesError> {
    let meta = fs::metadata(path).map_err(|e| SeriesError::bad(path, format!("cannot read series: {e}")))?;
    let mut mails = Vec::new();
    if meta.is_dir() {
        let rd = fs::read_dir(path).map_err(|e| SeriesError::bad(path, format!("cannot read series directory: {e}")))?;
        let mut files: Vec<PathBuf> = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| SeriesError::bad(path, format!("cannot read series directory: {e}")))?;
            let p = ent.path();
            let hidden = ent.file_name().to_string_lossy().starts_with('.');
            if !hidden && p.is_file() {
                files.push(p);
            }
        }
        files.sort();
        for f in files {
            let bytes = fs::read(&f).map_err(|e| SeriesError::bad(&f, format!("cannot read: {e}")))?;
            let body = match bytes.iter().position(|&b| b == b'\n') {
                Some(n) if bytes.starts_with(b"From ") => bytes[n + 1..].to_vec(),
                _ => bytes.clone(),
            };
            let mut m = parse_mail(disp(&f), Some(f.clone()), bytes)?;
            m.bytes = body;
            mails.push(m);
        }
    } else {
        let bytes = fs::read(path).map_err(|e| SeriesError::bad(path, format!("cannot read series: {e}")))?;
        let ls = lines(&bytes);
        let seps: Vec<usize> = (0..ls.len()).filter(|&i| is_separator(&ls, i)).collect();
        if seps.is_empty() {
            // one mail, not an mbox
            mails.push(parse_mail(disp(path), Some(path.to_path_buf()), bytes.clone())?);
        } else {
            if ls[..seps[0]].iter().any(|l| !is_blank(l)) {
                return Err(SeriesError::bad(path, "not an mbox: text before the first `From ` line"));
            }
            for (k, &s) in seps.iter().enumerate() {
                let end = seps.get(k + 1).copied().unwrap_or(ls.len());
                let msg: Vec<u8> = ls[s + 1..end].concat();
                mails.push(parse_mail(format!("{}:{}", disp(path), s + 1), None, msg)?);
            }
        }
    }
    Ok(mails)
}

/// `[PATCH vN NN/MM]` → (N, NN, MM); `[PATCH vN]` → (N, 1, 1).
fn parse_tag(subject: &str) -> Option<(u32, u32, u32)> {
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let inner = &after[..close];
        rest = &after[close + 1..];
        let mut is_patch = false;
        let mut version = 1;
        let mut nums = None;
        for tok in inner.split_whitespace() {
            let up = tok.to_ascii_uppercase();
            if let Some(v) = up.strip_prefix("PATCH") {
                is_patch = true;
                if let Some(n) = v.strip_prefix('V').and_then(|n| n.parse::<u32>().ok()) {
                    version = n;
                }
            } else if let Some(n) = up.strip_prefix('V').and_then(|n| n.parse::<u32>().ok()) {
                version = n;
            } else if let Some((a, b)) = tok.split_once('/') {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    nums = Some((a, b));
                }
            }
        }
        if is_patch {
            let (nn, mm) = nums.unwrap_or((1, 1));
            return Some((version, nn, mm));
        }
    }
    None
}

fn strip_tag(subject: &str) -> String {
    match (subject.find('['), subject.find(']')) {
        (Some(0), Some(c)) => subject[c + 1..].trim().to_string(),
        _ => subject.to_string(),
    }
}

fn read_series(path: &Path) -> Result<Series, SeriesError> {
    let mails = read_mails(path)?;
    let mut title = String::new();
    let mut tagged: Vec<(Mail, u32, u32, u32)> = Vec::new();
    for m in mails {
        let tag = parse_tag(&m.subject);
        if m.touched.is_empty() {
            if let Some((_, 0, _)) = tag {
                title = strip_tag(&m.subject);
            }
            continue; // cover letter or other mail without a diff
        }
        let Some((v, nn, mm)) = tag else {
            let why =
                if m.subject.is_empty() { "mail with a diff has no Subject".to_string() } else { format!("Subject {:?} has no [PATCH ...] tag", m.subject) };
            return Err(SeriesError::bad_at(&m.origin, why));
        };
        tagged.push((m, v, nn, mm));
    }
    if tagged.is_empty() {
        return Err(SeriesError::bad(path, "no patches (no mail carries a diff)"));
    }
    let versions: BTreeSet<u32> = tagged.iter().map(|t| t.1).collect();
    if versions.len() > 1 {
        let vs: Vec<String> = versions.iter().map(|v| format!("v{v}")).collect();
        return Err(SeriesError::bad(path, format!("mixed versions: {}", vs.join(", "))));
    }
    let version = format!("v{}", tagged[0].1);
    let totals: BTreeSet<u32> = tagged.iter().map(|t| t.3).collect();
    if totals.len() > 1 {
        let ts: Vec<String> = totals.iter().map(|t| t.to_string()).collect();
        return Err(SeriesError::bad(path, format!("patches disagree on the series length: {}", ts.join(", "))));
    }
    let total = tagged[0].3;
    let w = total.to_string().len().max(2);
    if total == 0 || total > MAX_PATCHES {
        return Err(SeriesError::bad_at(&tagged[0].0.origin, format!("series length {total} out of range 1..={MAX_PATCHES}")));
    }
    let mut by_nn: BTreeMap<u32, Patch> = BTreeMap::new();
    for (m, _, nn, _) in tagged {
        if nn == 0 || nn > total {
            return Err(SeriesError::bad_at(&m.origin, format!("patch number {nn:0w$} out of range {:0w$}..{total:0w$}", 1)));
        }
        if let Some(prev) = by_nn.get(&nn) {
            return Err(SeriesError::bad(path, format!("patch {nn:0w$}/{total:0w$} appears twice: {} and {}", prev.mail.origin, m.origin)));
        }
        by_nn.insert(nn, Patch { mail: m, number: nn });
    }
    let missing: Vec<String> = (1..=total).filter(|n| !by_nn.contains_key(n)).map(|n| format!("{n:0w$}")).collect();
    if !missing.is_empty() {
        return Err(SeriesError::Incomplete { path: disp(path), version, have: by_nn.len(), total, missing: missing.join(" ") });
    }
    let name = path.canonicalize().ok().and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_else(|| disp(path));
    let full = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    Ok(Series { name, path: full, version, title, total, patches: by_nn.into_values().collect() })
}

// ---------------------------------------------------------------- apply

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn sha256_hex(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

/// `Hunk #1 succeeded at 778 with fuzz 2 (offset 142 lines).` in `file` →
/// `file hunk 1 applied with fuzz 2 (offset 142 lines)`.
fn hunk_note(file: &str, line: &str) -> Option<String> {
    let rest = line.strip_prefix("Hunk #")?;
    let (n, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix("succeeded at ")?;
    let tail = rest.split_once(' ').map(|(_, t)| t).unwrap_or("").trim_end_matches('.');
    if tail.is_empty() {
        return None;
    }
    Some(format!("{file} hunk {n} applied {tail}"))
}

/// GNU patch's first line that says what went wrong.
fn patch_error(out: &str, status: Option<i32>) -> String {
    let ls: Vec<&str> = out.lines().collect();
    let mut file = String::new();
    for (i, l) in ls.iter().enumerate() {
        if let Some(f) = l.strip_prefix("patching file ") {
            file = f.trim_matches('\'').to_string();
            continue;
        }
        let err = l.contains("FAILED")
            || l.starts_with("patch: ****")
            || l.contains("can't find file")
            || l.contains("Reversed (or previously applied)")
            || l.contains("No file to patch")
            || l.contains("malformed")
            || l.contains("Only garbage");
        if l.starts_with("The next patch would") {
            let next = ls.get(i + 1).map(|n| format!(" {}", n.trim())).unwrap_or_default();
            return format!("{}{next}", l.trim());
        }
        if err {
            let l = l.trim();
            return if file.is_empty() || l.starts_with("patch:") || l.starts_with("can't find") { l.to_string() } else { format!("{file}: {l}") };
        }
    }
    ls.iter()
        .find(|l| !l.trim().is_empty() && !l.starts_with("patching file"))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| format!("patch exited with status {}", status.map(|s| s.to_string()).unwrap_or_else(|| "signal".into())))
}

/// Applies `p` in `staging`; its fuzz/offset notes.
fn apply_one(p: &Patch, total: u32, staging: &Path, tmp: &Path) -> Result<Vec<String>, SeriesError> {
    let w = total.to_string().len().max(2);
    let number = format!("{:0w$}/{total:0w$}", p.number);
    let file = match &p.mail.path {
        Some(f) => f.clone(),
        None => {
            let f = tmp.join(format!("{:04}.patch", p.number));
            fs::write(&f, &p.mail.bytes).map_err(|e| SeriesError::kernel(&f, format!("cannot write temporary patch file: {e}")))?;
            f
        }
    };
    let out = Command::new("patch")
        .args(["-p1", "-F3", "-N", "--no-backup-if-mismatch", "--batch", "-d"])
        .arg(staging)
        .arg("-i")
        .arg(&file)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| SeriesError::Tool { reason: one_line(format!("cannot run GNU patch (install the `patch` package): {e}")) })?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err(SeriesError::DoesNotApply { file: p.mail.origin.clone(), number, reason: one_line(patch_error(&text, out.status.code())) });
    }
    let mut notes = Vec::new();
    let mut cur = String::new();
    for l in text.lines() {
        if let Some(f) = l.strip_prefix("patching file ") {
            cur = f.trim_matches('\'').to_string();
        } else if let Some(n) = hunk_note(&cur, l.trim()) {
            notes.push(n);
        }
    }
    Ok(notes)
}

/// Staged content per touched file (None: the series deletes it or never
/// creates it).
type Staged = BTreeMap<String, Option<Vec<u8>>>;

/// The staged content of every touched file and the per-patch records.
fn stage(series: &Series, base: &Path) -> Result<(Staged, Vec<PatchRecord>), SeriesError> {
    let staging = tempfile::Builder::new()
        .prefix("mpv-series-stage")
        .tempdir()
        .map_err(|e| SeriesError::kernel(std::env::temp_dir(), format!("cannot create a staging directory: {e}")))?;
    let tmp = tempfile::Builder::new()
        .prefix("mpv-series-mails")
        .tempdir()
        .map_err(|e| SeriesError::kernel(std::env::temp_dir(), format!("cannot create a temporary directory: {e}")))?;
    let mut files: Vec<String> = Vec::new();
    for p in &series.patches {
        for f in &p.mail.touched {
            if !files.contains(f) {
                files.push(f.clone());
            }
        }
    }
    files.sort();
    for f in &files {
        let src = base.join(f);
        if src.is_file() {
            let dst = staging.path().join(f);
            if let Some(d) = dst.parent() {
                fs::create_dir_all(d).map_err(|e| SeriesError::kernel(d, format!("staging: {e}")))?;
            }
            fs::copy(&src, &dst).map_err(|e| SeriesError::kernel(&src, format!("cannot copy into staging: {e}")))?;
        }
    }
    let mut records = Vec::new();
    for p in &series.patches {
        let notes = apply_one(p, series.total, staging.path(), tmp.path())?;
        records.push(PatchRecord {
            number: p.number,
            file: p.mail.path.as_ref().and_then(|f| f.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.mail.origin.clone()),
            subject: p.mail.subject.clone(),
            notes,
        });
    }
    let mut staged = BTreeMap::new();
    for f in files {
        let p = staging.path().join(&f);
        let content = if p.is_file() { Some(fs::read(&p).map_err(|e| SeriesError::kernel(&p, format!("staging: {e}")))?) } else { None };
        staged.insert(f, content);
    }
    Ok((staged, records))
}

// ---------------------------------------------------------------- shim

/// Whether a tree whose blkdev.h is `blkdev` needs the getgeo shim for `c`.
pub fn needs_getgeo_shim(blkdev: &[u8], c: &[u8]) -> bool {
    find(blkdev, GETGEO_612).is_some() && find(c, GETGEO_SERIES).is_some()
}

/// The 6.12 getgeo shim on the text of lib/multipath.c: the handler takes
/// a `struct block_device *`, and the path's `fops->getgeo()` gets
/// `mpath_device->disk->part0`. Err names the anchor not found.
pub fn shim_getgeo(c: &[u8]) -> Result<Vec<u8>, String> {
    let at = find(c, GETGEO_SERIES_OPEN)
        .ok_or_else(|| "no `static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)` followed by a line `{`".to_string())?;
    let mut out = Vec::with_capacity(c.len() + 64);
    out.extend_from_slice(&c[..at]);
    out.extend_from_slice(GETGEO_SHIMMED_OPEN);
    out.extend_from_slice(&c[at + GETGEO_SERIES_OPEN.len()..]);
    // (fops->getgeo\(\s*)mpath_device->disk,  →  ${1}mpath_device->disk->part0,
    let call = b"fops->getgeo(";
    let arg = b"mpath_device->disk";
    let mut from = 0;
    while let Some(k) = find(&out[from..], call) {
        let mut j = from + k + call.len();
        while j < out.len() && matches!(out[j], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            j += 1;
        }
        if out[j..].starts_with(arg) && out.get(j + arg.len()) == Some(&b',') {
            let at = j + arg.len();
            out.splice(at..at, b"->part0".iter().copied());
            return Ok(out);
        }
        from += k + 1;
    }
    Err("no `fops->getgeo(mpath_device->disk, ...)` call to pass ->part0 to".to_string())
}

/// Applies the shim to the staged files when the base needs it; the shim report.
fn apply_shim(series: &Series, base: &Path, staged: &mut BTreeMap<String, Option<Vec<u8>>>) -> Result<Vec<String>, SeriesError> {
    let blkdev = match staged.get(BLKDEV_H) {
        Some(c) => c.clone().unwrap_or_default(),
        None => fs::read(base.join(BLKDEV_H)).unwrap_or_default(),
    };
    let mut report = Vec::new();
    if let Some(Some(c)) = staged.get(LIB_C) {
        if needs_getgeo_shim(&blkdev, c) {
            let shimmed = shim_getgeo(c).map_err(|reason| SeriesError::Shim { file: format!("{}: {LIB_C}", disp(&series.path)), reason })?;
            staged.insert(LIB_C.to_string(), Some(shimmed));
            report.push(format!("{LIB_C}: mpath_bdev_getgeo() takes the struct block_device * of 6.12's getgeo (disk = bdev->bd_disk)"));
            report.push(format!("{LIB_C}: the path's fops->getgeo() gets mpath_device->disk->part0"));
        }
    }
    let uses_args = [LIB_C, LIB_H].iter().any(|f| matches!(staged.get(*f), Some(Some(c)) if find(c, REPORT_ZONES_ARGS).is_some()));
    if uses_args && find(&blkdev, REPORT_ZONES_ARGS).is_none() {
        report.push("report_zones: not shimmed (CONFIG_BLK_DEV_ZONED off)".to_string());
    }
    Ok(report)
}

// ---------------------------------------------------------------- sync

fn write_atomic(path: &Path, content: &[u8]) -> Result<(), SeriesError> {
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
fn write_if_changed(path: &Path, content: &[u8]) -> Result<bool, SeriesError> {
    if fs::read(path).ok().as_deref() == Some(content) {
        return Ok(false);
    }
    write_atomic(path, content)?;
    Ok(true)
}

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, SeriesError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SeriesError::kernel(path, format!("cannot read: {e}"))),
    }
}

/// Removes the empty directories above `file` in `tree` that BASE lacks.
fn prune_dirs(tree: &Path, base: &Path, rel: &str) {
    let mut p = Path::new(rel).parent();
    while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
        if base.join(d).exists() || fs::remove_dir(tree.join(d)).is_err() {
            break;
        }
        p = d.parent();
    }
}

struct Lock(#[allow(dead_code)] fs::File);

/// The lock `kunit run` holds on a tree (run-kunit.sh's `$TREE.mpv-lock`).
fn lock(tree: &Path) -> Result<Lock, SeriesError> {
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
fn create_scratch(base: &Path, scratch: &Path) -> Result<bool, SeriesError> {
    if scratch.exists() {
        if !scratch.is_dir() {
            return Err(SeriesError::kernel(scratch, "scratch tree path exists and is not a directory"));
        }
        return Ok(false);
    }
    let name = scratch.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let parent = scratch.parent().ok_or_else(|| SeriesError::kernel(scratch, "no parent directory"))?;
    let tmp = parent.join(format!(".{name}.tmp.{}", std::process::id()));
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

fn prepare_series(series_path: &Path, opts: &PrepareOpts) -> Result<Prepared, SeriesError> {
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
    let prev_hashes = prev.as_ref().map(|p| p.hashes.clone()).unwrap_or_default();
    let mut all: BTreeSet<String> = staged.keys().cloned().collect();
    if let Some(p) = &prev {
        for f in &p.files {
            // the state file is ours, but only ever follow safe relative paths from it
            if Path::new(f).components().all(|c| matches!(c, Component::Normal(_))) && !f.is_empty() {
                all.insert(f.clone());
            }
        }
    }
    let (mut written, mut removed, mut unchanged, mut conflicts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for f in &all {
        let base_content = read_opt(&base.join(f))?;
        let desired: Option<Vec<u8>> = match staged.get(f) {
            Some(c) => c.clone(),
            None => base_content.clone(),
        };
        let target = scratch.join(f);
        let current = read_opt(&target)?;
        if current == desired {
            unchanged.push(f.clone());
            continue;
        }
        let ours = current.as_ref().is_some_and(|c| prev_hashes.get(f).is_some_and(|h| *h == sha256_hex(c)));
        let safe = current.is_none() || current == base_content || ours || opts.force;
        if !safe {
            conflicts.push(format!(
                "{f}: differs from what the series gives and was not written by prepare (local edits or test wiring?); left as is (--force overwrites it)"
            ));
            continue;
        }
        match &desired {
            Some(c) => {
                write_atomic(&target, c)?;
                written.push(f.clone());
            }
            None => {
                fs::remove_file(&target).map_err(|e| SeriesError::kernel(&target, format!("cannot remove: {e}")))?;
                prune_dirs(&scratch, &base, f);
                removed.push(f.clone());
            }
        }
    }

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

// ---------------------------------------------------------------- --tree

fn validate_tree(tree: &Path) -> Result<Prepared, SeriesError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(parse_tag("[PATCH v2 03/13] libmultipath: x"), Some((2, 3, 13)));
        assert_eq!(parse_tag("[PATCH 12/13] libmultipath: x"), Some((1, 12, 13)));
        assert_eq!(parse_tag("[RFC PATCH v3 1/2] x"), Some((3, 1, 2)));
        assert_eq!(parse_tag("[PATCHv4 2/5] x"), Some((4, 2, 5)));
        assert_eq!(parse_tag("[PATCH] x"), Some((1, 1, 1)));
        assert_eq!(parse_tag("Re: [PATCH v2 00/13] x"), Some((2, 0, 13)));
        assert_eq!(parse_tag("libmultipath: no tag"), None);
        assert_eq!(parse_tag("[nvme] [PATCH 99999999999/3] x"), Some((1, 1, 1)));
    }

    #[test]
    fn api() {
        assert_eq!(Api::detect(b"bool mpath_delete_device(struct mpath_device *mpath_device);"), Api::V2);
        assert_eq!(Api::detect(b"void mpath_delete_device(struct mpath_head *mpath_head,\n"), Api::V1);
        assert_eq!(Api::detect(b""), Api::Unknown);
    }

    #[test]
    fn notes() {
        assert_eq!(
            hunk_note("lib/Kconfig", "Hunk #1 succeeded at 778 with fuzz 2 (offset 142 lines)."),
            Some("lib/Kconfig hunk 1 applied with fuzz 2 (offset 142 lines)".into())
        );
        assert_eq!(hunk_note("a.c", "Hunk #3 succeeded at 10 (offset -1 lines)."), Some("a.c hunk 3 applied (offset -1 lines)".into()));
        assert_eq!(hunk_note("a.c", "Hunk #3 FAILED at 10."), None);
    }

    #[test]
    fn shim_both_call_layouts() {
        let v1 = b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n\tx;\n\tret = mpath_device->disk->fops->getgeo(mpath_device->disk, geo);\n";
        let v2 = b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n\tif (a->fops->getgeo)\n\t\tret = mpath_device->disk->fops->getgeo(\n\t\t\t\t\tmpath_device->disk, geo);\n";
        let s1 = shim_getgeo(v1).unwrap();
        let s2 = shim_getgeo(v2).unwrap();
        assert!(find(&s1, b"getgeo(mpath_device->disk->part0, geo)").is_some());
        assert!(find(&s2, b"getgeo(\n\t\t\t\t\tmpath_device->disk->part0, geo)").is_some());
        for s in [&s1, &s2] {
            assert!(find(s, GETGEO_SHIMMED_OPEN).is_some());
        }
        assert!(shim_getgeo(b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n").unwrap_err().contains("fops->getgeo"));
        assert!(shim_getgeo(b"int f(void)\n").unwrap_err().contains("mpath_bdev_getgeo"));
    }

    #[test]
    fn sidecars_are_next_to_the_tree() {
        assert_eq!(sidecar(Path::new("/c/series/linux"), STATE_SUFFIX), PathBuf::from("/c/series/linux.mpv-series.json"));
    }

    #[test]
    fn diff_paths() {
        assert_eq!(diff_path("m", "b/lib/x.c").unwrap(), Some("lib/x.c".into()));
        assert_eq!(diff_path("m", "/dev/null\t2020").unwrap(), None);
        assert!(diff_path("m", "a/../etc/passwd").is_err());
        assert!(diff_path("m", "b//abs").is_err());
    }
}
