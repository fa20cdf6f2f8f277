//! The 6.12 compatibility shim: `mpath_bdev_getgeo` takes a `struct
//! gendisk *` in the series, a `struct block_device *` in 6.12's
//! `block_device_operations`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::mail::*;
use super::state::*;

pub(super) const GETGEO_612: &[u8] = b"int (*getgeo)(struct block_device *";
pub(super) const GETGEO_SERIES: &[u8] = b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)";
pub(super) const GETGEO_SERIES_OPEN: &[u8] = b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n";
pub(super) const GETGEO_SHIMMED_OPEN: &[u8] = b"static int mpath_bdev_getgeo(struct block_device *bdev, struct hd_geometry *geo)\n{\n\tstruct gendisk *disk = bdev->bd_disk;\t/* mpath-verify 6.12 shim */\n";
pub(super) const REPORT_ZONES_ARGS: &[u8] = b"struct blk_report_zones_args";

/// Whether a tree whose blkdev.h is `blkdev` needs the getgeo shim for `c`.
pub fn needs_getgeo_shim(blkdev: &[u8], c: &[u8]) -> bool {
    find(blkdev, GETGEO_612).is_some() && find(c, GETGEO_SERIES).is_some()
}

/// The 6.12 getgeo shim on the text of lib/multipath.c: the handler takes
/// a `struct block_device *`, and the path's `fops->getgeo()` gets
/// `mpath_device->disk->part0`. Err names the anchor not found.
pub fn shim_getgeo(c: &[u8]) -> Result<Vec<u8>, String> {
    let at = find(c, GETGEO_SERIES_OPEN)
        .ok_or_else(|| "no `static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)` followed by a line `{`".to_string())?;
    let mut out = Vec::with_capacity(c.len() + 64);
    out.extend_from_slice(&c[..at]);
    out.extend_from_slice(GETGEO_SHIMMED_OPEN);
    out.extend_from_slice(&c[at + GETGEO_SERIES_OPEN.len()..]);
    // (fops->getgeo\(\s*)mpath_device->disk,  →  ${1}mpath_device->disk->part0,
    let call = b"fops->getgeo(";
    let arg = b"mpath_device->disk";
    let mut from = 0;
    while let Some(k) = find(&out[from..], call) {
        let mut j = from + k + call.len();
        while j < out.len() && matches!(out[j], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
            j += 1;
        }
        if out[j..].starts_with(arg) && out.get(j + arg.len()) == Some(&b',') {
            let at = j + arg.len();
            out.splice(at..at, b"->part0".iter().copied());
            return Ok(out);
        }
        from += k + 1;
    }
    Err("no `fops->getgeo(mpath_device->disk, ...)` call to pass ->part0 to".to_string())
}

/// Applies the shim to the staged files when the base needs it; the shim report.
pub(super) fn apply_shim(series: &Series, base: &Path, staged: &mut BTreeMap<String, Option<Vec<u8>>>) -> Result<Vec<String>, SeriesError> {
    let blkdev = match staged.get(BLKDEV_H) {
        Some(c) => c.clone().unwrap_or_default(),
        None => fs::read(base.join(BLKDEV_H)).unwrap_or_default(),
    };
    let mut report = Vec::new();
    if let Some(Some(c)) = staged.get(LIB_C) {
        if needs_getgeo_shim(&blkdev, c) {
            let shimmed = shim_getgeo(c).map_err(|reason| SeriesError::Shim { file: format!("{}: {LIB_C}", disp(&series.path)), reason })?;
            staged.insert(LIB_C.to_string(), Some(shimmed));
            report.push(format!("{LIB_C}: mpath_bdev_getgeo() takes the struct block_device * of 6.12's getgeo (disk = bdev->bd_disk)"));
            report.push(format!("{LIB_C}: the path's fops->getgeo() gets mpath_device->disk->part0"));
        }
    }
    let uses_args = [LIB_C, LIB_H].iter().any(|f| matches!(staged.get(*f), Some(Some(c)) if find(c, REPORT_ZONES_ARGS).is_some()));
    if uses_args && find(&blkdev, REPORT_ZONES_ARGS).is_none() {
        report.push("report_zones: not shimmed (CONFIG_BLK_DEV_ZONED off)".to_string());
    }
    Ok(report)
}
