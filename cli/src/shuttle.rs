//! `shuttle ...`: runs the companion binary `mpath-verify-shuttle` (the
//! reference built with the shuttle feature) that sits next to this one.

use crate::exit::{self, Exit};

/// Runs the shuttle companion binary that sits next to this executable.
pub fn cmd_shuttle(args: &[String]) -> Exit {
    let exe = std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join("mpath-verify-shuttle")));
    let Some(exe) = exe.filter(|p| p.is_file()) else {
        eprintln!("error: mpath-verify-shuttle not found next to this binary; build it with `cargo build --release -p mpath-shuttle --features shuttle --bin mpath-verify-shuttle`");
        return Exit::BadInput;
    };
    match std::process::Command::new(&exe).args(args).status() {
        Ok(st) => exit::of_child(st.code()),
        Err(e) => {
            eprintln!("error: {}: cannot run: {e}", exe.display());
            Exit::BadInput
        }
    }
}
