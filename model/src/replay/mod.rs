//! The model as the third execution of the trace corpus: a sequential mode
//! of the step-program interpreter. A trace's operations run one after
//! another on one thread (the work-queue worker only inside `run_works`),
//! from the state the reference computes for the trace's header and setup,
//! and every `ret` and `expect` field of the trace is compared with what
//! the step programs produce, as `replay` does on the reference.
//!
//! A trace the model cannot express is not replayed: it is a [`Gap`] with
//! a reason naming the modelling gap (an operation without a step program,
//! a field the state does not hold, a bound). Gaps are decided from the
//! trace and the model state, never from the expected values' agreement,
//! so a wrong answer is a divergence, not a gap.

mod corpus;
mod ctx;
mod observe;
mod rules;
mod seq;
mod sequential;

pub use corpus::{replay_all, replay_all_on, CorpusReport};
pub use observe::{observe, observe_at, observe_queued};
pub use seq::{load_trace, op_name, parse_trace, Gap, SeqDivergence, SeqOutcome, SeqTrace};
pub use sequential::{replay, replay_on, replay_on_threads};
