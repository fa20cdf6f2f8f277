//! Builtins: kernel primitives the step language has no step for (the
//! block layer's queue freeze and `q_usage_counter`, requests in flight
//! and their completion), each carried by one step of a function named
//! after the primitive.

use crate::step::*;

/// Kernel primitives the step language (`step.rs`) has no step for. A
/// revision uses one by defining a function of the builtin's name whose
/// body is exactly the one *carrier* step [`Builtin::carrier`] names; the
/// interpreter runs that step with the primitive's semantics instead of
/// (or, for `submit_bio_noacct`, in addition to) its own, and the swimlane
/// shows the function's name. Revisions that define none of them (v1, v2,
/// v3 and their mutants) behave exactly as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `bio_queue_enter()` on the head disk's queue (`__submit_bio` takes
    /// it around the head's `->submit_bio`): blocks while the queue is
    /// frozen, then holds a `q_usage_counter` reference. Carrier: `yield`.
    QueueEnter,
    /// `blk_queue_exit()`: drops that reference. Carrier: `yield`.
    QueueExit,
    /// `blk_freeze_queue_start()` on the head disk's queue:
    /// `mq_freeze_depth++`, new `bio_queue_enter` calls wait. Carrier: `yield`.
    FreezeStart,
    /// `blk_mq_freeze_queue_wait()`: blocks until no thread holds a
    /// reference on the head disk's queue. Carrier: `yield`.
    FreezeWait,
    /// `blk_mq_unfreeze_queue()`: `mq_freeze_depth--`. Carrier: `yield`.
    Unfreeze,
    /// `submit_bio_noacct()` of a bio remapped to the path in `p`: the
    /// carrier `use_path_disk` step, then a request is in flight on `p`
    /// (`nvme_mpath_start_request`: counted in `ctrl->nr_active` when the
    /// iopolicy is queue-depth). Carrier: `use_path_disk`.
    SubmitToPath,
    /// `blk_mq_complete_request()` of the oldest request in flight on the
    /// path in `on` that nobody completes yet: `dst` = 1 and this thread now
    /// completes it (a completion operation: `failover`, whose request
    /// stays in flight until its `nvme_end_req`), or `dst` = 0 when there
    /// is none (without a request there is no completion). Reads no kernel
    /// object. Carrier: `load` (its `what` is ignored).
    CompleteRequest,
    /// `nvme_end_req()`: a request in flight on `p` ends, the oldest one
    /// being completed (or, with none being completed, the oldest;
    /// `nvme_mpath_end_request`: `atomic_dec_if_positive(&ns->ctrl->nr_active)`
    /// if it was counted at start; reads the path). With none in flight
    /// nothing happens and nothing is read. Carrier: `deref_path`.
    EndRequest,
    /// `blk_mq_freeze_queue_wait(ns->disk->queue)` in `del_gendisk(ns->disk)`:
    /// waits until no request is in flight on the path in `p`. Meanwhile the
    /// device completes them: while one is in flight that no thread is
    /// completing, each execution ends it (as [`Builtin::EndRequest`]) and
    /// the step runs again; one another thread is completing blocks the
    /// step until that thread's `nvme_end_req`. Reads the path. Carrier:
    /// `deref_path`.
    DrainRequests,
}

impl Builtin {
    /// Every builtin: the function name that selects it, and the builtin.
    pub const ALL: &'static [(&'static str, Builtin)] = &[
        ("bio_queue_enter", Builtin::QueueEnter),
        ("blk_queue_exit", Builtin::QueueExit),
        ("blk_freeze_queue_start", Builtin::FreezeStart),
        ("blk_mq_freeze_queue_wait", Builtin::FreezeWait),
        ("blk_mq_unfreeze_queue", Builtin::Unfreeze),
        ("submit_bio_noacct", Builtin::SubmitToPath),
        ("blk_mq_complete_request", Builtin::CompleteRequest),
        ("nvme_end_req", Builtin::EndRequest),
        ("ns_freeze_queue_wait", Builtin::DrainRequests),
    ];

    pub fn by_name(name: &str) -> Option<Builtin> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }

    /// The carrier step's name (`s` in the revision file).
    pub fn carrier(self) -> &'static str {
        match self {
            Builtin::QueueEnter | Builtin::QueueExit | Builtin::FreezeStart | Builtin::FreezeWait | Builtin::Unfreeze => "yield",
            Builtin::SubmitToPath => "use_path_disk",
            Builtin::EndRequest | Builtin::DrainRequests => "deref_path",
            Builtin::CompleteRequest => "load",
        }
    }

    pub(super) fn carrier_ok(self, step: &Step) -> bool {
        matches!(
            (self, step),
            (Builtin::QueueEnter | Builtin::QueueExit | Builtin::FreezeStart | Builtin::FreezeWait | Builtin::Unfreeze, Step::Yield)
                | (Builtin::SubmitToPath, Step::UsePathDisk { .. })
                | (Builtin::EndRequest | Builtin::DrainRequests, Step::DerefPath { .. })
                | (Builtin::CompleteRequest, Step::Load { .. })
        )
    }
}

/// The function whose `consider` steps (mode `find_path`) use the path's
/// controller's `nr_active` as their metric instead of the NUMA distance:
/// 6.12's `nvme_queue_depth_path` (`depth = atomic_read(&ns->ctrl->nr_active)`,
/// the lowest depth wins, ties to the first).
pub const QUEUE_DEPTH_SELECTOR: &str = "nvme_queue_depth_path";
