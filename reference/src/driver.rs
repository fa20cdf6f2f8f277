//! The driver side: `struct mpath_head_template` callbacks as a trait, with
//! the NVMe and SCSI implementations the spec describes (§16), and the
//! driver state they read (controller / sdev state, ANA / ALUA state, the
//! NVMe namespace bits, per-controller or per-host `nr_active`).
//!
//! The callbacks see one path through a [`DevView`] (the library's checked
//! view, `head::Dev`), never the whole system: this module depends on no
//! library module.

use crate::sync::{AtomicBool, AtomicI32, AtomicU8, Ordering};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriverKind {
    Nvme,
    Scsi,
}

/// `enum nvme_ctrl_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum CtrlState {
    New = 0,
    Live = 1,
    Resetting = 2,
    Connecting = 3,
    Deleting = 4,
    DeletingNoio = 5,
    Dead = 6,
}

/// NVMe ANA states (`enum nvme_ana_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum AnaState {
    Optimized = 1,
    Nonoptimized = 2,
    Inaccessible = 3,
    PersistentLoss = 4,
    Change = 15,
}

/// `enum scsi_device_state` (the subset the callbacks distinguish, plus the rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum SdevState {
    Created = 1,
    Running = 2,
    Cancel = 3,
    Del = 4,
    Quiesce = 5,
    Offline = 6,
    TransportOffline = 7,
    Block = 8,
    CreatedBlock = 9,
}

/// `SCSI_ACCESS_STATE_*` (ALUA).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum AluaState {
    Optimal = 0,
    Active = 1,
    Standby = 2,
    Unavailable = 3,
    Lba = 4,
    Offline = 0xe,
    Transitioning = 0xf,
}

/// `enum mpath_access_state` (v2 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum AccessState {
    Optimized = 0,
    Nonoptimized = 1,
    Other = 2,
}

macro_rules! from_u8 {
    ($t:ident { $($v:ident),* }) => {
        impl $t {
            pub fn from_u8(x: u8) -> Option<$t> {
                $( if x == $t::$v as u8 { return Some($t::$v); } )*
                None
            }
        }

        /// The checked conversion at a boundary that holds raw bytes (a
        /// register, a poke): the byte itself back when it names no state.
        impl TryFrom<u8> for $t {
            type Error = u8;
            fn try_from(x: u8) -> Result<$t, u8> {
                $t::from_u8(x).ok_or(x)
            }
        }

        impl From<$t> for u8 {
            fn from(v: $t) -> u8 {
                v as u8
            }
        }
    };
}
from_u8!(CtrlState { New, Live, Resetting, Connecting, Deleting, DeletingNoio, Dead });
from_u8!(AnaState { Optimized, Nonoptimized, Inaccessible, PersistentLoss, Change });
from_u8!(SdevState { Created, Running, Cancel, Del, Quiesce, Offline, TransportOffline, Block, CreatedBlock });
from_u8!(AluaState { Optimal, Active, Standby, Unavailable, Lba, Offline, Transitioning });
from_u8!(AccessState { Optimized, Nonoptimized, Other });

impl AnaState {
    /// The kernel's enumerator name (`enum nvme_ana_state`).
    pub fn kernel_name(self) -> &'static str {
        match self {
            AnaState::Optimized => "NVME_ANA_OPTIMIZED",
            AnaState::Nonoptimized => "NVME_ANA_NONOPTIMIZED",
            AnaState::Inaccessible => "NVME_ANA_INACCESSIBLE",
            AnaState::PersistentLoss => "NVME_ANA_PERSISTENT_LOSS",
            AnaState::Change => "NVME_ANA_CHANGE",
        }
    }
}

impl CtrlState {
    /// The kernel's enumerator name (`enum nvme_ctrl_state`).
    pub fn kernel_name(self) -> &'static str {
        match self {
            CtrlState::New => "NVME_CTRL_NEW",
            CtrlState::Live => "NVME_CTRL_LIVE",
            CtrlState::Resetting => "NVME_CTRL_RESETTING",
            CtrlState::Connecting => "NVME_CTRL_CONNECTING",
            CtrlState::Deleting => "NVME_CTRL_DELETING",
            CtrlState::DeletingNoio => "NVME_CTRL_DELETING_NOIO",
            CtrlState::Dead => "NVME_CTRL_DEAD",
        }
    }

    /// Linux 6.12's `nvme_change_ctrl_state` transition table
    /// (drivers/nvme/host/core.c): may a controller in state `self` be
    /// changed to `new`? LIVE only from CONNECTING; RESETTING from NEW or
    /// LIVE; CONNECTING from NEW or RESETTING; DELETING from LIVE, RESETTING
    /// or CONNECTING; DELETING_NOIO from DELETING or DEAD; DEAD from
    /// DELETING; nothing becomes NEW, and no state becomes itself.
    pub fn nvme_may_become(self, new: CtrlState) -> bool {
        use CtrlState::*;
        match new {
            Live => self == Connecting,
            Resetting => matches!(self, New | Live),
            Connecting => matches!(self, New | Resetting),
            Deleting => matches!(self, Live | Resetting | Connecting),
            DeletingNoio => matches!(self, Deleting | Dead),
            Dead => self == Deleting,
            New => false,
        }
    }

    /// Every state, in `enum nvme_ctrl_state` order.
    pub const ALL: [CtrlState; 7] =
        [CtrlState::New, CtrlState::Live, CtrlState::Resetting, CtrlState::Connecting, CtrlState::Deleting, CtrlState::DeletingNoio, CtrlState::Dead];
}

/// NVMe namespace flag bits (`ns->flags`).
pub const NVME_NS_READY: u32 = 1 << 0;
pub const NVME_NS_ANA_PENDING: u32 = 1 << 1;
pub const NVME_NS_REMOVING: u32 = 1 << 2;

/// The kind of ioctl, as `ioctl_begin` distinguishes it (`is_ctrl_ioctl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IoctlKind {
    Ns,
    Ctrl,
}

/// An NVMe controller or a SCSI host.
pub struct Ctrl {
    pub state: AtomicU8,
    pub nr_active: AtomicI32,
    pub failfast_expired: AtomicBool,
    pub numa_node: AtomicI32,
    /// References taken by `ioctl_begin`.
    pub refs: AtomicI32,
}

impl Ctrl {
    pub(crate) fn new() -> Self {
        Ctrl {
            state: AtomicU8::new(CtrlState::Live as u8),
            nr_active: AtomicI32::new(0),
            failfast_expired: AtomicBool::new(false),
            numa_node: AtomicI32::new(-1),
            refs: AtomicI32::new(0),
        }
    }
    pub fn state(&self) -> CtrlState {
        CtrlState::from_u8(self.state.load(Ordering::Acquire)).unwrap_or(CtrlState::Dead)
    }
}

/// One path as the template's callbacks see it (`struct mpath_device *`,
/// and through it the namespace or `scsi_device` and its controller or
/// host). The library checks the path once per visit (use-after-free) and
/// hands the callbacks this view, so a callback adds no check of its own.
pub trait DevView: predicates::PathView {
    /// `ns->ctrl` / the path's host: its index and the object.
    fn ctrl(&self) -> (u32, &Ctrl);
    /// `clear_bit(NVME_NS_READY, &ns->flags)`.
    fn clear_ns_ready(&self);
}

/// `struct mpath_head_template`: the callbacks the library calls. Static
/// dispatch: the selectors are generic over the template (one copy per
/// driver, callbacks inlined); [`DriverKind`] implements it too, by a
/// `match`, for the library's cold paths.
pub trait Template: Send + Sync {
    fn kind(&self) -> DriverKind;
    fn name(&self) -> &'static str;
    fn available_path(&self, dev: &impl DevView) -> bool;
    fn is_disabled(&self, dev: &impl DevView) -> bool;
    fn is_optimized(&self, dev: &impl DevView) -> bool;
    fn get_nr_active(&self, dev: &impl DevView) -> i32;
    /// `add_cdev` / `del_cdev` / `cdev_ioctl` / `chr_uring_cmd` are set.
    fn has_cdev(&self) -> bool;
    /// `ioctl_begin`: returns the opaque data (a pinned controller index).
    /// `dev` gives the checked path, called only if the callback reads it.
    fn ioctl_begin<D: DevView>(&self, dev: impl FnOnce() -> D, cmd: IoctlKind) -> Option<u32>;
    /// `ioctl_finish` with the controller `ioctl_begin` pinned.
    fn ioctl_finish(&self, ctrl: &Ctrl);
    /// `clone_bio` is set (SCSI).
    fn has_clone_bio(&self) -> bool;
    /// The `not_ready_cb` passed to `mpath_revalidate_paths`, if any.
    fn revalidate_cb(&self, dev: &impl DevView) -> bool;
}

pub struct Nvme;
pub struct Scsi;

pub static NVME: Nvme = Nvme;
pub static SCSI: Scsi = Scsi;

/// The driver predicates, defined once (`nvme_path_is_disabled`,
/// `nvme_path_is_optimized`, `nvme_mpath_available_path` and their SCSI
/// counterparts): the state sets below and three functions over a
/// [`predicates::PathView`]. The reference's templates (reading its
/// objects) and the model's interpreter (`mpath_model::machine`, reading
/// its state bytes) both call them, so the two cannot disagree on them.
pub mod predicates {
    use super::{AluaState, AnaState, CtrlState, DriverKind, SdevState};

    /// One path as the predicates read it, in the kernel's read order
    /// (each read happens only when the predicate needs it).
    pub trait PathView {
        /// `ns->ctrl->state` (`CtrlState as u8`).
        fn ctrl_state(&self) -> u8;
        /// `NVME_CTRL_FAILFAST_EXPIRED` of the path's controller.
        fn failfast_expired(&self) -> bool;
        /// `(NVME_NS_READY, NVME_NS_ANA_PENDING)`: one read of `ns->flags`.
        fn ns_flags(&self) -> (bool, bool);
        /// `ns->ana_state` (`AnaState as u8`).
        fn ana(&self) -> u8;
        /// `sdev->sdev_state` (`SdevState as u8`).
        fn sdev(&self) -> u8;
        /// The ALUA access state (`AluaState as u8`).
        fn alua(&self) -> u8;
    }

    /// NVMe: controller states in which a path can be enabled.
    pub const NVME_CTRL_ENABLED: &[CtrlState] = &[CtrlState::Live, CtrlState::Deleting];
    /// NVMe: controller states in which a path can be optimized.
    pub const NVME_CTRL_OPTIMIZED: &[CtrlState] = &[CtrlState::Live];
    /// NVMe: the ANA state of an optimized path.
    pub const NVME_ANA_OPTIMIZED: &[AnaState] = &[AnaState::Optimized];
    /// NVMe: controller states `nvme_mpath_available_path` accepts (FAILFAST_EXPIRED aside).
    pub const NVME_CTRL_AVAILABLE: &[CtrlState] = &[CtrlState::Live, CtrlState::Resetting, CtrlState::Connecting];
    /// SCSI: the device states of an enabled (and of an optimized) path.
    pub const SCSI_SDEV_ENABLED: &[SdevState] = &[SdevState::Running];
    /// SCSI: ALUA states of an enabled path (ACTIVE counts).
    pub const SCSI_ALUA_ENABLED: &[AluaState] = &[AluaState::Optimal, AluaState::Active];
    /// SCSI: the ALUA state of an optimized path.
    pub const SCSI_ALUA_OPTIMIZED: &[AluaState] = &[AluaState::Optimal];
    /// SCSI: device states `scsi_mpath_available_path` accepts.
    pub const SCSI_SDEV_AVAILABLE: &[SdevState] = &[SdevState::Running, SdevState::Quiesce, SdevState::Block, SdevState::CreatedBlock];

    fn ctrl_in(c: u8, set: &[CtrlState]) -> bool {
        set.iter().any(|&s| s as u8 == c)
    }
    fn sdev_in(c: u8, set: &[SdevState]) -> bool {
        set.iter().any(|&s| s as u8 == c)
    }
    fn alua_in(c: u8, set: &[AluaState]) -> bool {
        set.iter().any(|&s| s as u8 == c)
    }
    fn ana_in(c: u8, set: &[AnaState]) -> bool {
        set.iter().any(|&s| s as u8 == c)
    }

    /// `nvme_path_is_disabled` / `scsi_mpath_is_disabled`.
    pub fn is_disabled(kind: DriverKind, v: &impl PathView) -> bool {
        match kind {
            DriverKind::Nvme => {
                if !ctrl_in(v.ctrl_state(), NVME_CTRL_ENABLED) {
                    return true;
                }
                let (ready, ana_pending) = v.ns_flags();
                ana_pending || !ready
            }
            DriverKind::Scsi => !sdev_in(v.sdev(), SCSI_SDEV_ENABLED) || !alua_in(v.alua(), SCSI_ALUA_ENABLED),
        }
    }

    /// `nvme_path_is_optimized` / `scsi_mpath_is_optimized`.
    pub fn is_optimized(kind: DriverKind, v: &impl PathView) -> bool {
        match kind {
            DriverKind::Nvme => ctrl_in(v.ctrl_state(), NVME_CTRL_OPTIMIZED) && ana_in(v.ana(), NVME_ANA_OPTIMIZED),
            DriverKind::Scsi => sdev_in(v.sdev(), SCSI_SDEV_ENABLED) && alua_in(v.alua(), SCSI_ALUA_OPTIMIZED),
        }
    }

    /// `nvme_mpath_available_path` / `scsi_mpath_available_path`.
    pub fn available(kind: DriverKind, v: &impl PathView) -> bool {
        match kind {
            DriverKind::Nvme => !v.failfast_expired() && ctrl_in(v.ctrl_state(), NVME_CTRL_AVAILABLE),
            DriverKind::Scsi => sdev_in(v.sdev(), SCSI_SDEV_AVAILABLE),
        }
    }
}

impl Template for Nvme {
    fn kind(&self) -> DriverKind {
        DriverKind::Nvme
    }
    fn name(&self) -> &'static str {
        "nvme"
    }
    /// `nvme_mpath_available_path`.
    #[inline]
    fn available_path(&self, dev: &impl DevView) -> bool {
        predicates::available(DriverKind::Nvme, dev)
    }
    /// `nvme_path_is_disabled`.
    #[inline]
    fn is_disabled(&self, dev: &impl DevView) -> bool {
        predicates::is_disabled(DriverKind::Nvme, dev)
    }
    /// `nvme_path_is_optimized`.
    #[inline]
    fn is_optimized(&self, dev: &impl DevView) -> bool {
        predicates::is_optimized(DriverKind::Nvme, dev)
    }
    /// `atomic_read(&ns->ctrl->nr_active)`.
    #[inline]
    fn get_nr_active(&self, dev: &impl DevView) -> i32 {
        dev.ctrl().1.nr_active.load(Ordering::Relaxed)
    }
    fn has_cdev(&self) -> bool {
        true
    }
    /// For controller ioctls: `nvme_get_ctrl(ns->ctrl)`, data = ctrl.
    fn ioctl_begin<D: DevView>(&self, dev: impl FnOnce() -> D, cmd: IoctlKind) -> Option<u32> {
        if cmd != IoctlKind::Ctrl {
            return None;
        }
        let dev = dev();
        let (ci, c) = dev.ctrl();
        c.refs.fetch_add(1, Ordering::Relaxed);
        Some(ci)
    }
    /// `nvme_put_ctrl`.
    fn ioctl_finish(&self, ctrl: &Ctrl) {
        ctrl.refs.fetch_sub(1, Ordering::Relaxed);
    }
    fn has_clone_bio(&self) -> bool {
        false
    }
    /// `nvme_mpath_revalidate_paths_cb`: clear `NVME_NS_READY`.
    fn revalidate_cb(&self, dev: &impl DevView) -> bool {
        dev.clear_ns_ready();
        true
    }
}

impl Template for Scsi {
    fn kind(&self) -> DriverKind {
        DriverKind::Scsi
    }
    fn name(&self) -> &'static str {
        "scsi"
    }
    /// `sdev_state` in {RUNNING, QUIESCE, BLOCK, CREATED_BLOCK}.
    #[inline]
    fn available_path(&self, dev: &impl DevView) -> bool {
        predicates::available(DriverKind::Scsi, dev)
    }
    #[inline]
    fn is_disabled(&self, dev: &impl DevView) -> bool {
        predicates::is_disabled(DriverKind::Scsi, dev)
    }
    #[inline]
    fn is_optimized(&self, dev: &impl DevView) -> bool {
        predicates::is_optimized(DriverKind::Scsi, dev)
    }
    /// Per-host count.
    #[inline]
    fn get_nr_active(&self, dev: &impl DevView) -> i32 {
        dev.ctrl().1.nr_active.load(Ordering::Relaxed)
    }
    fn has_cdev(&self) -> bool {
        false
    }
    fn ioctl_begin<D: DevView>(&self, _dev: impl FnOnce() -> D, _cmd: IoctlKind) -> Option<u32> {
        None
    }
    fn ioctl_finish(&self, _ctrl: &Ctrl) {}
    fn has_clone_bio(&self) -> bool {
        true
    }
    fn revalidate_cb(&self, _dev: &impl DevView) -> bool {
        false
    }
}

/// Enum dispatch to [`NVME`] / [`SCSI`], for calls off the hot loops.
macro_rules! by_kind {
    ($k:expr, $t:ident => $e:expr) => {
        match $k {
            DriverKind::Nvme => {
                let $t = &NVME;
                $e
            }
            DriverKind::Scsi => {
                let $t = &SCSI;
                $e
            }
        }
    };
}

impl Template for DriverKind {
    fn kind(&self) -> DriverKind {
        *self
    }
    fn name(&self) -> &'static str {
        by_kind!(self, t => t.name())
    }
    fn available_path(&self, dev: &impl DevView) -> bool {
        by_kind!(self, t => t.available_path(dev))
    }
    fn is_disabled(&self, dev: &impl DevView) -> bool {
        by_kind!(self, t => t.is_disabled(dev))
    }
    fn is_optimized(&self, dev: &impl DevView) -> bool {
        by_kind!(self, t => t.is_optimized(dev))
    }
    fn get_nr_active(&self, dev: &impl DevView) -> i32 {
        by_kind!(self, t => t.get_nr_active(dev))
    }
    fn has_cdev(&self) -> bool {
        by_kind!(self, t => t.has_cdev())
    }
    fn ioctl_begin<D: DevView>(&self, dev: impl FnOnce() -> D, cmd: IoctlKind) -> Option<u32> {
        by_kind!(self, t => t.ioctl_begin(dev, cmd))
    }
    fn ioctl_finish(&self, ctrl: &Ctrl) {
        by_kind!(self, t => t.ioctl_finish(ctrl))
    }
    fn has_clone_bio(&self) -> bool {
        by_kind!(self, t => t.has_clone_bio())
    }
    fn revalidate_cb(&self, dev: &impl DevView) -> bool {
        by_kind!(self, t => t.revalidate_cb(dev))
    }
}

/// `nvme_mpath_update_ana_state`: ANA state to library access state.
pub fn ana_to_access(a: AnaState) -> AccessState {
    match a {
        AnaState::Optimized => AccessState::Optimized,
        AnaState::Nonoptimized => AccessState::Nonoptimized,
        _ => AccessState::Other,
    }
}
