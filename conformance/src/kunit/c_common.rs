//! The C every prelude shares, `conformance/kunit/mpv_common.h` (the step
//! log, the expectations naming trace and step, the object-id lookup), and
//! how a generated suite embeds it: once, before the harness or prelude,
//! which then drops its own `#include "mpv_common.h"` (the line a
//! hand-written suite needs, with run-kunit.sh placing the file).

/// `conformance/kunit/mpv_common.h`.
pub const MPV_COMMON: &str = include_str!("../../kunit/mpv_common.h");

/// The line that includes it from a header on disk.
pub const INCLUDE_LINE: &str = "#include \"mpv_common.h\"\n";

/// mpv_common.h as a generated suite embeds it: a banner, then the file
/// without its SPDX line (the suite's first line is its own).
pub fn embedded() -> String {
    let body = MPV_COMMON.split_once('\n').map(|(first, rest)| if first.contains("SPDX-License-Identifier") { rest } else { MPV_COMMON }).unwrap_or(MPV_COMMON);
    format!("/* ---- mpv_common.h (shared step log, expectations, ids; embedded) ---- */\n{body}\n")
}

/// `header` without its `#include "mpv_common.h"` line: the suite embeds
/// the file itself, before it.
pub fn without_include(header: &str) -> String {
    header.replacen(INCLUDE_LINE, "/* mpv_common.h: embedded above */\n", 1)
}
