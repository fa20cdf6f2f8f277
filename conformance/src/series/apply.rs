//! Applying the series with GNU `patch` to copies of the files it touches
//! in a staging directory.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use super::mail::*;
use super::state::*;

pub(super) fn sha256_hex(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

/// `Hunk #1 succeeded at 778 with fuzz 2 (offset 142 lines).` in `file` →
/// `file hunk 1 applied with fuzz 2 (offset 142 lines)`.
pub(super) fn hunk_note(file: &str, line: &str) -> Option<String> {
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
pub(super) fn patch_error(out: &str, status: Option<i32>) -> String {
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
pub(super) fn apply_one(p: &Patch, total: u32, staging: &Path, tmp: &Path) -> Result<Vec<String>, SeriesError> {
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
pub(super) type Staged = BTreeMap<String, Option<Vec<u8>>>;

/// The staged content of every touched file and the per-patch records.
pub(super) fn stage(series: &Series, base: &Path) -> Result<(Staged, Vec<PatchRecord>), SeriesError> {
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
