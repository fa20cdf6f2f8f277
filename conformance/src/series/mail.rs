//! Reading a series: patch mails from a directory or one mbox, their
//! subjects' `[PATCH vN i/n]` tags, checked for completeness.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::state::*;

pub(super) struct Mail {
    /// `dir/file` or `mbox:line`.
    pub(super) origin: String,
    /// The mail's file on disk, when it is one (directory series).
    pub(super) path: Option<PathBuf>,
    /// The mail without an mbox `From ` line.
    pub(super) bytes: Vec<u8>,
    pub(super) subject: String,
    /// Files its diff touches.
    pub(super) touched: Vec<String>,
}

pub(super) struct Patch {
    pub(super) mail: Mail,
    pub(super) number: u32,
}

pub(super) struct Series {
    pub(super) name: String,
    pub(super) path: PathBuf,
    pub(super) version: String,
    pub(super) title: String,
    pub(super) total: u32,
    pub(super) patches: Vec<Patch>,
}

pub(super) fn is_header_line(l: &[u8]) -> bool {
    let Some(colon) = l.iter().position(|&b| b == b':') else { return false };
    colon > 0
        && l[..colon].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        && matches!(l.get(colon + 1), None | Some(b' ') | Some(b'\t') | Some(b'\n') | Some(b'\r'))
}

pub(super) fn is_blank(l: &[u8]) -> bool {
    l.iter().all(|b| b.is_ascii_whitespace())
}

/// Lines with their terminators.
pub(super) fn lines(b: &[u8]) -> Vec<&[u8]> {
    b.split_inclusive(|&c| c == b'\n').collect()
}

/// Whether line `i` is an mbox separator: `From ` followed, within three
/// lines and before a blank one, by a mail header.
pub(super) fn is_separator(ls: &[&[u8]], i: usize) -> bool {
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

pub(super) fn parse_mail(origin: String, path: Option<PathBuf>, bytes: Vec<u8>) -> Result<Mail, SeriesError> {
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
pub(super) fn read_mails(path: &Path) -> Result<Vec<Mail>, SeriesError> {
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
pub(super) fn parse_tag(subject: &str) -> Option<(u32, u32, u32)> {
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

pub(super) fn strip_tag(subject: &str) -> String {
    match (subject.find('['), subject.find(']')) {
        (Some(0), Some(c)) => subject[c + 1..].trim().to_string(),
        _ => subject.to_string(),
    }
}

pub(super) fn read_series(path: &Path) -> Result<Series, SeriesError> {
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
