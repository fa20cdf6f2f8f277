//! Head settings and sysfs: the iopolicy (driver store, module parameter,
//! show), `numa_nodes`, the `multipath/` links, `mpath_synchronize`, and
//! delayed removal (`mpath_can_remove_head`, `delayed_removal_secs`).

use super::apply::{misrouted, Family};
use super::{Op, OpError, Ret};
use crate::head::System;

impl System {
    pub(super) fn apply_settings(&self, op: &Op) -> Result<Ret, OpError> {
        use Op::*;
        Ok(match op {
            IopolicyStore { buf } => Ret::Int(self.drv_iopolicy_store(buf)),
            SetIopolicy { val } => match crate::iopolicy::set_iopolicy(Some(val)) {
                Ok(p) => {
                    self.store_iopolicy(p);
                    Ret::Int(0)
                }
                Err(e) => Ret::Int(e as i64),
            },
            IopolicyShow => Ret::Str(self.iopolicy_show()),
            NumaNodesShow { path } => {
                self.check_path(*path)?;
                Ret::Str(self.numa_nodes_show(*path))
            }
            AddSysfsLink => Ret::Paths(self.add_sysfs_link()),
            RemoveSysfsLink { path } => {
                self.check_path(*path)?;
                self.remove_sysfs_link(*path);
                Ret::None
            }
            Synchronize => {
                self.mpath_synchronize();
                Ret::None
            }
            CanRemoveHead => Ret::Bool(self.can_remove_head()),
            DelayedRemovalSecsStore { buf } => Ret::Int(self.delayed_removal_secs_store(buf)),
            DelayedRemovalSecsShow => Ret::Str(self.delayed_removal_secs_show()),
            _ => return Err(misrouted(Family::Settings, op)),
        })
    }
}
