//! What the model commands share (the Ctrl-C flag, the one-line errors
//! about `--revision` / `--scenario`, the spinner), and `diff` and
//! `explore`: thin wrappers over `mpath-model`.

use crate::exit::{self, Exit};
use mpath_model::{Bounds, RevisionSpec, Scenario};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the Ctrl-C handler.
pub static STOP: AtomicBool = AtomicBool::new(false);

pub fn install_ctrlc() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(Exit::Interrupted as i32);
        }
        eprintln!("\ninterrupted: finishing with what was found (Ctrl-C again to abort)");
    });
}

/// An error about the `--revision` / `--scenario` argument `arg` in one
/// line: `file:line:column: reason` when a file failed to parse, otherwise
/// the reason once (no repeated `revision X:` prefix, no position repeated
/// at the end as serde_json writes it).
pub fn one_line(arg: &str, text: &str) -> String {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let mut t = text.trim().replace('\n', " ");
    if let Some(i) = t.rfind(" at line ") {
        if t[i + 9..].split_once(" column ").is_some_and(|(l, c)| digits(l) && digits(c)) {
            t.truncate(i);
        }
    }
    loop {
        let before = t.len();
        for p in
            [format!("revision {arg}: "), format!("scenario {arg}: "), "revision <text>: ".to_string(), "scenario <text>: ".to_string(), format!("{arg}: ")]
        {
            if let Some(r) = t.strip_prefix(p.as_str()) {
                t = r.to_string();
            }
        }
        if t.len() == before {
            break;
        }
    }
    if let Some((l, rest)) = t.strip_prefix("line ").and_then(|r| r.split_once(", column ")) {
        if let Some((c, reason)) = rest.split_once(": ") {
            if digits(l) && digits(c) {
                return format!("{arg}:{l}:{c}: {reason}");
            }
        }
    }
    if t.contains("(os error ") && !t.starts_with("cannot read") {
        t = format!("cannot read: {t}");
    }
    if (arg.contains('/') || arg.ends_with(".json")) && !t.contains(arg) {
        format!("{arg}: {t}")
    } else {
        t
    }
}

pub fn load_rev(name: &str) -> Result<RevisionSpec, Exit> {
    RevisionSpec::load(name).map_err(|e| {
        eprintln!("error: {}", one_line(name, &e.to_string()));
        Exit::BadInput
    })
}

pub fn load_scenario(name: &str) -> Result<Scenario, Exit> {
    Scenario::load(name).map_err(|e| {
        eprintln!("error: {}", one_line(name, &e.to_string()));
        Exit::BadInput
    })
}

pub fn progress_bar(label: String) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    pb.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()));
    pb.set_message(label);
    pb
}

/// `mpath-verify diff R1 R2`.
pub fn cmd_diff(r1: &str, r2: &str, bounds: &Bounds, json: bool) -> Exit {
    install_ctrlc();
    let (a, b) = match (load_rev(r1), load_rev(r2)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let pb = progress_bar(format!("running every scenario on {r1} and {r2}"));
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    let rows = mpath_model::diff(&a, &b, bounds, &STOP);
    pb.finish_and_clear();
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return exit::report(&e),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else if rows.is_empty() {
        println!("no verdict changes between {r1} and {r2}");
    } else {
        println!("{:<18} {:<30} {:<14} {:<14}", "scenario", "property", r1, r2);
        for r in &rows {
            println!("{:<18} {:<30} {:<14} {:<14}", r.scenario, r.property, r.left.to_string(), r.right.to_string());
        }
    }
    if STOP.load(Ordering::SeqCst) {
        Exit::Interrupted
    } else {
        Exit::Ok
    }
}

/// `mpath-verify explore SCENARIO`.
pub fn cmd_explore(revision: &str, scenario: &str, addr: &str) -> Exit {
    let rev = match load_rev(revision) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let sc = match load_scenario(scenario) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if !addr.starts_with("127.0.0.1:") && !addr.starts_with("localhost:") {
        eprintln!("error: --addr {addr}: the Explorer only listens on 127.0.0.1");
        return Exit::BadInput;
    }
    println!("Explorer for {scenario} on {revision}: http://{addr}/ (Ctrl-C to stop)");
    match mpath_model::explore(&rev, &sc, addr) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("error: {e}");
            Exit::BadInput
        }
    }
}
