//! Arguments several subcommands share: the model checker's bounds, the
//! sweep report's options, the trace generator's driver.

use mpath_reference::DriverKind;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Driver {
    Nvme,
    Scsi,
}

impl From<Driver> for DriverKind {
    fn from(d: Driver) -> DriverKind {
        match d {
            Driver::Nvme => DriverKind::Nvme,
            Driver::Scsi => DriverKind::Scsi,
        }
    }
}

#[derive(clap::Args)]
pub struct SweepReportArgs {
    /// Swimlane width in columns [default: the terminal's; 100 when not a terminal].
    #[arg(long)]
    pub width: Option<usize>,
    /// Compare the group summary with this file (exit 1 if it differs);
    /// MPV_BLESS=1 writes it instead.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<String>,
    /// Print only the group summary (no swimlanes).
    #[arg(long)]
    pub summary: bool,
}

#[derive(clap::Args)]
pub struct BoundArgs {
    /// Stop exploring below this depth (verdict "bound reached" if nothing was found).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Stop after this many unique states.
    #[arg(long)]
    max_states: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long)]
    timeout: Option<u64>,
    /// Depth-first search (less memory; counterexamples may not be shortest).
    #[arg(long)]
    dfs: bool,
    /// Symmetry reduction over identical threads.
    #[arg(long)]
    symmetry: bool,
    /// Checker threads (BFS). Verdicts do not depend on it; counterexamples
    /// then come from a separate single-threaded shortest search.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Partial-order reduction (same verdicts, fewer states; model/README-model.md).
    #[arg(long)]
    reduce: bool,
    /// Memory bound in MiB for the checker's visited set, frontier and records
    /// (default 8192); a check that would exceed it stops: "bound reached".
    #[arg(long)]
    max_memory: Option<u64>,
}

impl BoundArgs {
    pub fn bounds(&self) -> mpath_model::Bounds {
        mpath_model::Bounds {
            max_depth: self.max_depth,
            max_states: self.max_states,
            timeout_ms: self.timeout.map(|s| s * 1000),
            mode: if self.dfs { mpath_model::Mode::Dfs } else { mpath_model::Mode::Bfs },
            symmetry: self.symmetry,
            threads: self.threads,
            reduction: self.reduce,
            max_memory: self.max_memory.map(|mb| mb << 20),
        }
    }
}
