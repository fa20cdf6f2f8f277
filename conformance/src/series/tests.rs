//! Unit tests of the series module's parts.

use super::apply::*;
use super::mail::*;
use super::shim::*;
use super::state::*;
use std::path::{Path, PathBuf};

#[test]
fn tags() {
    assert_eq!(parse_tag("[PATCH v2 03/13] libmultipath: x"), Some((2, 3, 13)));
    assert_eq!(parse_tag("[PATCH 12/13] libmultipath: x"), Some((1, 12, 13)));
    assert_eq!(parse_tag("[RFC PATCH v3 1/2] x"), Some((3, 1, 2)));
    assert_eq!(parse_tag("[PATCHv4 2/5] x"), Some((4, 2, 5)));
    assert_eq!(parse_tag("[PATCH] x"), Some((1, 1, 1)));
    assert_eq!(parse_tag("Re: [PATCH v2 00/13] x"), Some((2, 0, 13)));
    assert_eq!(parse_tag("libmultipath: no tag"), None);
    assert_eq!(parse_tag("[nvme] [PATCH 99999999999/3] x"), Some((1, 1, 1)));
}

#[test]
fn api() {
    assert_eq!(Api::detect(b"bool mpath_delete_device(struct mpath_device *mpath_device);"), Api::V2);
    assert_eq!(Api::detect(b"void mpath_delete_device(struct mpath_head *mpath_head,\n"), Api::V1);
    assert_eq!(Api::detect(b""), Api::Unknown);
}

#[test]
fn notes() {
    assert_eq!(
        hunk_note("lib/Kconfig", "Hunk #1 succeeded at 778 with fuzz 2 (offset 142 lines)."),
        Some("lib/Kconfig hunk 1 applied with fuzz 2 (offset 142 lines)".into())
    );
    assert_eq!(hunk_note("a.c", "Hunk #3 succeeded at 10 (offset -1 lines)."), Some("a.c hunk 3 applied (offset -1 lines)".into()));
    assert_eq!(hunk_note("a.c", "Hunk #3 FAILED at 10."), None);
}

#[test]
fn shim_both_call_layouts() {
    let v1 = b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n\tx;\n\tret = mpath_device->disk->fops->getgeo(mpath_device->disk, geo);\n";
    let v2 = b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n\tif (a->fops->getgeo)\n\t\tret = mpath_device->disk->fops->getgeo(\n\t\t\t\t\tmpath_device->disk, geo);\n";
    let s1 = shim_getgeo(v1).unwrap();
    let s2 = shim_getgeo(v2).unwrap();
    assert!(find(&s1, b"getgeo(mpath_device->disk->part0, geo)").is_some());
    assert!(find(&s2, b"getgeo(\n\t\t\t\t\tmpath_device->disk->part0, geo)").is_some());
    for s in [&s1, &s2] {
        assert!(find(s, GETGEO_SHIMMED_OPEN).is_some());
    }
    assert!(shim_getgeo(b"static int mpath_bdev_getgeo(struct gendisk *disk, struct hd_geometry *geo)\n{\n").unwrap_err().contains("fops->getgeo"));
    assert!(shim_getgeo(b"int f(void)\n").unwrap_err().contains("mpath_bdev_getgeo"));
}

#[test]
fn sidecars_are_next_to_the_tree() {
    assert_eq!(sidecar(Path::new("/c/series/linux"), STATE_SUFFIX), PathBuf::from("/c/series/linux.mpv-series.json"));
}

#[test]
fn diff_paths() {
    assert_eq!(diff_path("m", "b/lib/x.c").unwrap(), Some("lib/x.c".into()));
    assert_eq!(diff_path("m", "/dev/null\t2020").unwrap(), None);
    assert!(diff_path("m", "a/../etc/passwd").is_err());
    assert!(diff_path("m", "b//abs").is_err());
}
