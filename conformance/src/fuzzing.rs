//! Fuzzing entry points, one per input surface (the registry [`TARGETS`]).
//!
//! Each takes arbitrary bytes and must neither panic nor break the
//! surface's contract; a broken contract is a panic with the reason, which
//! the fuzzer records as a crash. `fuzz/` (cargo-fuzz, nightly) drives
//! them coverage-guided; `tests/fuzz_regressions.rs` runs every committed
//! corpus input and every crash ever found through them on stable, so a
//! fixed crash stays fixed.

use crate::kunit::export::{export_for, Target};
use crate::kunit::{ktap, Backend};
use crate::series::Api;

/// A fuzz target: its name (the cargo-fuzz target and the corpus
/// directory) and its check.
pub struct FuzzTarget {
    pub name: &'static str,
    pub what: &'static str,
    pub check: fn(&[u8]),
}

/// Every fuzz target.
pub const TARGETS: &[FuzzTarget] = &[
    FuzzTarget { name: "trace", what: "trace parser, then replay on the reference", check: trace },
    FuzzTarget { name: "scenario", what: "scenario loader, validation and initial state", check: scenario },
    FuzzTarget { name: "revision", what: "revision loader and step-program compiler (labels, calls, recursion)", check: revision },
    FuzzTarget { name: "properties", what: "properties loader (the predicate language)", check: properties },
    FuzzTarget { name: "ktap", what: "KTAP / console reader", check: ktap_reader },
    FuzzTarget { name: "export", what: "KUnit exporter: trace free text never reaches the C outside comments and string literals", check: export },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static FuzzTarget> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Input files go through `parse_file`, which refuses invalid UTF-8 with a
/// located error; the text surfaces below start from text.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// An error message must be one line (the CLI prints it as one).
fn one_line(what: &str, msg: &str) {
    assert!(!msg.contains('\n'), "{what}: error message spans lines: {msg:?}");
}

pub fn trace(data: &[u8]) {
    let Some(s) = text(data) else { return };
    match crate::parse::parse_str("fuzz.jsonl", s) {
        Ok(t) => {
            if let Err(e) = crate::replay::replay(&t) {
                one_line("replay", &e.to_string());
            }
        }
        Err(e) => {
            one_line("trace", &e.to_string());
            assert_eq!(e.file, "fuzz.jsonl");
            assert!(e.line >= 1 && e.column >= 1, "unlocated error: {e}");
        }
    }
}

pub fn scenario(data: &[u8]) {
    let Some(s) = text(data) else { return };
    match mpath_model::scenario::Scenario::parse(s) {
        Ok(sc) => {
            if sc.validate().is_ok() {
                let _ = sc.initial_state("v2");
            }
        }
        Err(e) => one_line("scenario", &e.to_string()),
    }
}

pub fn revision(data: &[u8]) {
    let Some(s) = text(data) else { return };
    match mpath_model::revision::RevisionSpec::from_text("fuzz.json", s) {
        Ok(r) => {
            if let Err(e) = r.compile() {
                one_line("revision compile", &e.to_string());
            }
        }
        Err(e) => one_line("revision", &e.to_string()),
    }
}

pub fn properties(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Err(e) = mpath_model::dataprop::PropertySet::parse("fuzz.props", s) {
        let m = e.to_string();
        one_line("properties", &m);
        assert!(m.starts_with("fuzz.props:"), "unlocated error: {m}");
    }
}

pub fn ktap_reader(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let r = ktap::parse(&s, "mpv_suite");
    assert!(r.cases.len() <= s.lines().count(), "more cases than lines");
    let _ = ktap::kernel_reports_in(&s);
}

/// The input is a trace file's name (first line) and its text (the rest).
/// Every trace the parser accepts exports to C for both backends, or is
/// skipped with a reason; and the C's tokens (comments dropped, string
/// literals' contents blanked, the case's identifier, which the exporter
/// derives from the file name through `c_ident`, renamed) are the same
/// whatever the trace's free text (file name, description, notes) says:
/// free text reaches the C only inside well-formed comments and string
/// literals.
pub fn export(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let (name, body) = s.split_once('\n').unwrap_or((s, ""));
    if name.is_empty() {
        return;
    }
    let Ok(t) = crate::parse::parse_str(name, body) else { return };
    let mut plain = t.clone();
    plain.file = "x.jsonl".into();
    let stem = std::path::Path::new(name).file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let case_a = crate::kunit::export::c_ident("mpv_", &stem);
    plain.header.description = "x".into();
    for (_, l) in &mut plain.lines {
        l.note = if l.note.is_empty() { String::new() } else { "x".into() };
    }
    // UML with the v2 API for both backends; the series' v1 API on two
    // nodes for the library's exporter (the NVMe one ignores the API).
    let v1_numa = Target { api: Api::V1, nodes: vec![0, 1] };
    for (backend, target) in [(Backend::Nvme612, Target::uml()), (Backend::Libmultipath, Target::uml()), (Backend::Libmultipath, v1_numa)] {
        let a = export_for(backend, &target, std::slice::from_ref(&t), "mpv_fuzz");
        assert_eq!(a.cases.len() + a.skipped.len(), 1, "{}: trace neither exported nor skipped", backend.name());
        for sk in &a.skipped {
            assert!(!sk.reason.is_empty(), "skipped without a reason");
        }
        let b = export_for(backend, &target, std::slice::from_ref(&plain), "mpv_fuzz");
        if a.source == b.source {
            continue; // no free text reached the C at all
        }
        let (ta, tb) = match (c_tokens(&a.source), c_tokens(&b.source)) {
            (Ok(ta), Ok(tb)) => (ta.into_iter().map(|tok| if tok == case_a { "mpv_x".to_string() } else { tok }).collect::<Vec<_>>(), tb),
            (Err(e), _) | (_, Err(e)) => panic!("{}: exported C does not lex: {e}", backend.name()),
        };
        if ta != tb {
            let at = ta.iter().zip(&tb).position(|(x, y)| x != y).unwrap_or(ta.len().min(tb.len()));
            panic!("{}: the trace's free text changes the exported C's tokens (token {at}: {:?} vs {:?})", backend.name(), ta.get(at), tb.get(at));
        }
    }
}

/// C tokens with comments dropped and literals blanked: a string literal
/// is `""`, a character literal `''`. Errors: an unterminated comment or
/// literal, a raw newline in a literal, a byte outside printable ASCII
/// and whitespace.
pub fn c_tokens(src: &str) -> Result<Vec<String>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/").ok_or_else(|| format!("unterminated comment at byte {i}"))?;
                i += 2 + end + 2;
            }
            b'"' | b'\'' => {
                let q = c;
                let start = i;
                i += 1;
                loop {
                    match b.get(i) {
                        None | Some(b'\n') => return Err(format!("unterminated literal at byte {start}")),
                        Some(b'\\') => i += 2,
                        Some(&x) if x == q => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                out.push(if q == b'"' { "\"\"".into() } else { "''".into() });
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(src[start..i].to_string());
            }
            c if c.is_ascii_graphic() => {
                out.push((c as char).to_string());
                i += 1;
            }
            _ => return Err(format!("byte {c:#04x} outside comments and literals at byte {i}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lexer_sees_a_comment_closed_by_free_text() {
        let ok = c_tokens("/* note: a */ int x = 1; \"s\\\"*/\"").unwrap();
        assert_eq!(ok, ["int", "x", "=", "1", ";", "\"\""]);
        // Free text that closes the comment leaves tokens behind.
        let broken = c_tokens("/* note: a */ y */ int x;").unwrap();
        assert_ne!(broken, c_tokens("/* note: x */ int x;").unwrap());
        assert!(c_tokens("\"a\nb\"").is_err());
        assert!(c_tokens("/* open").is_err());
    }

    #[test]
    fn the_export_target_catches_unescaped_free_text() {
        // A stand-in exporter that pastes the description into a comment
        // unescaped is caught by the same comparison the target makes.
        let emit = |d: &str| format!("/* {d} */\nint x;\n");
        let evil = "*/ int injected; /*";
        assert_ne!(c_tokens(&emit(evil)).unwrap(), c_tokens(&emit("x")).unwrap());
        // The real exporter escapes it: the corpus' first trace with an
        // evil description and note goes through the target cleanly.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/traces/spec");
        let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let text = std::fs::read_to_string(&files[0]).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let mut h: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        h["description"] = serde_json::Value::String(format!("{evil} \" \\ \u{7f} \u{e9} ??/ \\n"));
        lines[0] = h.to_string();
        if lines.len() > 1 {
            let mut l: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
            l["note"] = serde_json::Value::String(format!("{evil}\n#define x"));
            lines[1] = l.to_string();
        }
        let name = format!("ev\"il{evil}.jsonl");
        let t = crate::parse::parse_str(&name, &lines.join("\n")).unwrap();
        let x = export_for(Backend::Libmultipath, &Target::uml(), &[t], "mpv_fuzz");
        assert!(x.source.contains("injected"), "the free text reaches the C (escaped), else this proves nothing");
        export(format!("{name}\n{}", lines.join("\n")).as_bytes());
    }
}
