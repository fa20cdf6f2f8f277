//! Delayed removal and queue_if_no_path (§10), module references.

use crate::disk::EINVAL;
use crate::head::{System, HEAD_QUEUE_IF_NO_PATH};
use crate::sync::{lock, Ordering};
use crate::violation::{Kind, Object};

pub const ERANGE: i32 = 34;

impl System {
    /// `try_module_get(head->drv_module)`; NULL succeeds without a pin.
    fn try_module_get(&self) -> bool {
        if self.drv_head.drv_module_set {
            self.drv_head.module_refs.fetch_add(1, Ordering::AcqRel);
        }
        true
    }

    pub(crate) fn module_put(&self) {
        if self.drv_head.drv_module_set && self.drv_head.module_refs.fetch_sub(1, Ordering::AcqRel) <= 0 {
            self.violate(Kind::RefUnderflow, Object::Head, "module_put");
        }
    }

    /// `mpath_can_remove_head`: true if the caller should remove now.
    pub fn can_remove_head(&self) -> bool {
        const F: &str = "mpath_can_remove_head";
        self.head(F);
        let _g = lock(&self.lock);
        if self.profile.queue_if_no_path && self.test_flag(HEAD_QUEUE_IF_NO_PATH) && self.try_module_get() {
            let secs = self.delayed_removal_secs.load(Ordering::Relaxed) as u64;
            self.work.mod_delayed(secs);
            return false;
        }
        true
    }

    /// `mpath_delayed_removal_secs_show`.
    pub fn delayed_removal_secs_show(&self) -> String {
        self.head("mpath_delayed_removal_secs_show");
        let _g = lock(&self.lock);
        format!("{}\n", self.delayed_removal_secs.load(Ordering::Relaxed))
    }

    /// `mpath_delayed_removal_secs_store`: returns `count` or `-errno`.
    pub fn delayed_removal_secs_store(&self, buf: &str) -> i64 {
        const F: &str = "mpath_delayed_removal_secs_store";
        self.head(F);
        let sec = match kstrtouint(buf) {
            Ok(v) => v,
            Err(e) => return e as i64,
        };
        {
            let _g = lock(&self.lock);
            self.delayed_removal_secs.store(sec, Ordering::Relaxed);
            if sec != 0 {
                self.set_flag(HEAD_QUEUE_IF_NO_PATH);
            } else {
                self.clear_flag(HEAD_QUEUE_IF_NO_PATH);
            }
        }
        self.synchronize(F);
        buf.len() as i64
    }
}

/// `kstrtouint(s, 0, &v)`: an optional `+`, base auto-detect (`0x` with a
/// hex digit after it, else a leading `0` is octal), the longest digit run,
/// then one optional newline and nothing else. As in `_kstrtoull`, a u64
/// overflow in the digit run is `-ERANGE` even if junk follows; no digits or
/// trailing junk is `-EINVAL`; a value above `u32::MAX` is `-ERANGE`.
pub fn kstrtouint(s: &str) -> Result<u32, i32> {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'+'));
    let radix: u32 = if b.get(i) == Some(&b'0') {
        if matches!(b.get(i + 1), Some(b'x' | b'X')) && b.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit()) {
            i += 2;
            16
        } else {
            8
        }
    } else {
        10
    };
    let (mut v, mut ndigits, mut overflow) = (0u64, 0usize, false);
    while let Some(d) = b.get(i).and_then(|&c| (c as char).to_digit(radix)) {
        match v.checked_mul(radix as u64).and_then(|x| x.checked_add(d as u64)) {
            Some(x) => v = x,
            None => {
                overflow = true;
                v = v.wrapping_mul(radix as u64).wrapping_add(d as u64);
            }
        }
        ndigits += 1;
        i += 1;
    }
    if overflow {
        return Err(-ERANGE);
    }
    if ndigits == 0 {
        return Err(-EINVAL);
    }
    if b.get(i) == Some(&b'\n') {
        i += 1;
    }
    if i != b.len() {
        return Err(-EINVAL);
    }
    u32::try_from(v).map_err(|_| -ERANGE)
}
