//! Properties as data: a small predicate language over the model state's
//! named fields, read from a properties file (`*.props`) and checked and
//! reported exactly like the built-in properties ([`crate::property`]).
//!
//! ```text
//! # a comment runs to the end of the line
//! property no_requeue_on_dead_head
//!   "at rest, no bio is left on the requeue list once the head disk is no longer live"
//!   at_rest: requeue == 0 || head.disk_live;
//! ```
//!
//! A declaration is `property NAME ["description"] MODE: EXPR;` with MODE
//! one of `always` (every reachable state), `at_rest` (every state where
//! all scenario threads finished, the worker is idle and no work is
//! pending), `at_end` (every final state: no thread and no work can move,
//! whether at rest, deadlocked or spinning) or `after OP` (every state
//! where some thread has completed an operation of kind OP, e.g.
//! `after remove_path`). The fields are listed in [`FIELDS`] and in
//! `model/README-model.md`, "Properties as data". Errors are one line,
//! `file:line:col: reason`.

use std::fmt;

pub mod eval;
mod lex;
mod parse;

/// How many data properties one check can carry (the stateright property
/// table takes plain function pointers: one trampoline per slot).
pub const MAX_DATA_PROPERTIES: usize = 32;
/// Parentheses, `!` and quantifiers nest at most this deep; a property has
/// at most [`MAX_PROPERTY_TOKENS`] tokens. Together they bound the
/// expression tree, so parsing, checking and evaluating it never run out
/// of stack (found by fuzzing: a long enough `!!!...` or `(((...` did).
pub const MAX_NESTING: usize = 64;
pub const MAX_PROPERTY_TOKENS: usize = 2048;

/// A bad properties file: `file:line:col: reason`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {reason}")]
pub struct PropsError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub reason: String,
}

/// When a data property's predicate must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    AtRest,
    AtEnd,
    /// After some thread completed an operation of this kind (the trace
    /// `op` name, e.g. `remove_path`).
    After(String),
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Always => f.write_str("always"),
            When::AtRest => f.write_str("at_rest"),
            When::AtEnd => f.write_str("at_end"),
            When::After(op) => write!(f, "after {op}"),
        }
    }
}

/// One declared property.
#[derive(Clone, Debug)]
pub struct DataProperty {
    /// Leaked once when the file is loaded (stateright names are `&'static str`).
    pub name: &'static str,
    pub description: String,
    pub when: When,
    pub expr: Expr,
    /// The declaration's source text (for listings).
    pub source: String,
    /// Where it was declared (`file:line`).
    pub origin: String,
}

/// A set of data properties (possibly from several files).
#[derive(Clone, Debug, Default)]
pub struct PropertySet {
    pub props: Vec<DataProperty>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Int,
    Bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Domain {
    Paths,
    Nodes,
    Threads,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    All,
    Any,
    Count,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Implies,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
}

/// Global (state-wide) fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum G {
    Requeue,
    Pending,
    AtRest,
    Terminal,
    Stuck,
    Runnable,
    Unfinished,
    Iopolicy,
    QFreeze,
    HeadRef,
    HeadBit(u8),
    HeadFreed,
    DiskPresent,
    DiskFreed,
    HeadLock,
    SubsysLock,
    Work(u8),
    Viol(u16),
    Npaths,
    Nnodes,
}

/// Per-path fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PF {
    Bit(u8),
    Life(crate::state::Life),
    OnList,
    Current,
    SysfsLink,
    Usable,
    OptimizedUsable,
    Disabled,
    Optimized,
    Inflight,
    Ctrl,
    Numa,
    Id,
}

/// Per-thread fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TF {
    Finished,
    Stuck,
    Enabled,
    Worker,
    OpsDone,
    InSrcu,
    Id,
}

/// A typed expression (checked when parsed).
#[derive(Clone, Debug)]
pub enum Expr {
    Int(i32),
    Bool(bool),
    Var(u8),
    Global(G),
    Path(Box<Expr>, PF),
    Thread(Box<Expr>, TF),
    CurrentPath(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Quant(Quant, DomainTag, u8, Box<Expr>),
}

/// The domain a quantifier ranges over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DomainTag(Domain);

/// Every field name, its type and meaning (the README's table is this).
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("requeue", "int", "bios on the head's requeue list (saturates at 7)"),
    ("pending", "int", "number of queued works not yet started"),
    ("work.requeue / work.partition_scan / work.remove_head", "bool", "that work is queued and not yet started"),
    ("at_rest", "bool", "every scenario thread finished, worker idle, no work pending"),
    ("terminal", "bool", "no thread and no work can move (at rest, deadlocked or spinning)"),
    ("stuck", "int", "threads spinning for ever (a selection loop exceeded its bound)"),
    ("runnable", "int", "threads that can take a step, plus 1 if the idle worker can start a pending work"),
    ("unfinished", "int", "threads (worker included) not finished"),
    ("iopolicy", "int", "0 numa, 1 round-robin, 2 queue-depth"),
    ("q_freeze", "int", "the head queue's mq_freeze_depth"),
    ("head.ref", "int", "head reference count"),
    ("head.disk_live / head.queue_if_no_path / head.gd_added / head.suppress_part_scan / head.cdev_live", "bool", "head flag bits"),
    ("head.freed", "bool", "the head was freed"),
    ("head.disk_present / head.disk_freed", "bool", "the head gendisk is allocated / was freed"),
    ("head.lock_held / subsys.lock_held", "bool", "head->lock / subsys->lock is held"),
    ("viol.use_after_free_path / viol.use_after_free_head / viol.null_disk / viol.junk_pointer / viol.duplicate_link / viol.non_termination / viol.unlinked_returned / viol.disabled_returned / viol.quality", "bool", "an event the interpreter recorded (sticky)"),
    ("npaths / nnodes", "int", "the scenario's path slots / NUMA nodes"),
    ("current_path[N]", "int", "the path in current_path[N] (its id), null (-1) or junk (-2)"),
    ("P.link / P.ready / P.ana_pending / P.removing / P.disk_added / P.on_ctrl / P.has_disk", "bool", "path bits (P: a path variable or path[N])"),
    ("P.unused / P.allocated / P.linked / P.unlinked / P.freed", "bool", "path life"),
    ("P.on_list", "bool", "reachable from the head's dev_list"),
    ("P.current", "bool", "in some current_path[] slot"),
    ("P.sysfs_link", "bool", "its multipath/<path> sysfs link exists"),
    ("P.usable / P.optimized_usable / P.disabled / P.optimized", "bool", "the driver predicates the selectors use (usable: linked, not disabled, optimized or non-optimized)"),
    ("P.inflight / P.ctrl / P.numa / P.id", "int", "requests in flight, controller, NUMA node, path id"),
    ("T.finished / T.stuck / T.enabled / T.worker / T.in_srcu", "bool", "per thread (T: a thread variable or thread[N]; the worker is last)"),
    ("T.ops_done / T.id", "int", "operations completed, thread index"),
];

/// The operation kinds (`op` names of the trace format) `after` accepts.
pub const OP_NAMES: &[&str] = &[
    "submit_bio",
    "find_path",
    "remove_path",
    "ana_update",
    "set_live",
    "remove_disk",
    "failover",
    "complete",
    "iopolicy_store",
    "revalidate",
    "chr_ioctl",
    "forward",
    "release",
    "head_uninit",
    "scsi_block",
    "delete_device",
    "add_sysfs_link",
    "remove_sysfs_link",
    "clear_current_path",
    "clear_paths",
    "synchronize",
    "delayed_removal_secs_store",
    "free_path",
    "set_ready",
    "set_ana_pending",
    "add_path",
    "add_device",
    "set_ana_state",
    "set_ctrl_state",
];

impl PropertySet {
    /// Add another set's properties (a name declared twice is an error,
    /// reported at the second declaration).
    pub fn extend(&mut self, other: PropertySet) -> Result<(), PropsError> {
        for p in other.props {
            if self.props.iter().any(|q| q.name == p.name) {
                let (file, line) = p.origin.rsplit_once(':').map(|(f, l)| (f.to_string(), l.parse().unwrap_or(1))).unwrap_or((p.origin.clone(), 1));
                return Err(PropsError { file, line, col: 1, reason: format!("property `{}` is already declared", p.name) });
            }
            if self.props.len() >= MAX_DATA_PROPERTIES {
                return Err(PropsError { file: p.origin.clone(), line: 1, col: 1, reason: format!("more than {MAX_DATA_PROPERTIES} properties") });
            }
            self.props.push(p);
        }
        Ok(())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.props.iter().map(|p| p.name).collect()
    }

    pub fn get(&self, name: &str) -> Option<&DataProperty> {
        self.props.iter().find(|p| p.name == name)
    }
}
