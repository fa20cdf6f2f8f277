//! Delayed removal and queue_if_no_path (§10), module references.

use crate::head::{System, HEAD_QUEUE_IF_NO_PATH};
use crate::sync::{lock, Ordering};
use crate::violation::{Kind, Object};
use crate::disk::EINVAL;

pub const ERANGE: i32 = 34;

impl System {
    /// `try_module_get(head->drv_module)`; NULL succeeds without a pin.
    fn try_module_get(&self) -> bool {
        if self.drv_module_set {
            self.module_refs.fetch_add(1, Ordering::AcqRel);
        }
        true
    }

    pub(crate) fn module_put(&self) {
        if self.drv_module_set && self.module_refs.fetch_sub(1, Ordering::AcqRel) <= 0 {
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

/// `kstrtouint(s, 0, &v)`: base auto-detect (0x / 0 prefixes), one optional
/// trailing newline, `-EINVAL` on junk, `-ERANGE` on overflow.
pub fn kstrtouint(s: &str) -> Result<u32, i32> {
    let s = s.strip_suffix('\n').unwrap_or(s);
    let s = s.strip_prefix('+').unwrap_or(s);
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(-EINVAL);
    }
    let mut v: u64 = 0;
    for c in digits.chars() {
        v = v * radix as u64 + c.to_digit(radix).unwrap_or(0) as u64;
        if v > u32::MAX as u64 {
            return Err(-ERANGE);
        }
    }
    Ok(v as u32)
}
