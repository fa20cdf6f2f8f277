//! The KUnit harness files of `conformance/kunit` (run-kunit.sh, the
//! wiring fragments, the kunitconfigs, the schedule-point patches, the C
//! headers), embedded in the library by `build.rs`, and written out on
//! demand into a content-addressed directory under the cache dir, so that
//! `kunit run`, `kunit race` and `bench run` of an installed binary need no
//! source tree.
//!
//! The directory is `<cache>/assets/kunit-<16 hex digits of SHA-256 over
//! every path and content>`; it is written once (into a scratch directory
//! renamed into place, so a concurrent run never sees half of it) and reused
//! by every run of a binary carrying the same files.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/kunit_assets.rs"));

/// The marker written last: a directory holding it is complete.
const COMPLETE: &str = ".complete";

/// SHA-256 over every embedded path and content, in hex.
pub fn digest() -> String {
    let mut h = Sha256::new();
    for (path, bytes) in FILES {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The embedded content of `path` (relative to conformance/kunit).
pub fn get(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// Writes the embedded files under `base` (unless a complete copy is there
/// already) and returns their directory.
pub fn materialise(base: &Path) -> std::io::Result<PathBuf> {
    let name = format!("kunit-{}", &digest()[..16]);
    let dir = base.join(&name);
    if dir.join(COMPLETE).is_file() {
        return Ok(dir);
    }
    let tmp = base.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for (path, bytes) in FILES {
        let f = tmp.join(path);
        if let Some(d) = f.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&f, bytes)?;
        if path.ends_with(".sh") || path.ends_with(".py") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    std::fs::write(tmp.join(COMPLETE), digest())?;
    if let Err(e) = std::fs::rename(&tmp, &dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another run put the same files there first.
        if !dir.join(COMPLETE).is_file() {
            return Err(e);
        }
    }
    Ok(dir)
}

/// The harness directory runs use: `$MPV_KUNIT_DIR` when set, else the
/// embedded files written under `<cache>/assets` (the cache of
/// `series::default_cache()`), or under the temporary directory when the
/// cache cannot be written. Written once per process.
pub fn dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MPV_KUNIT_DIR") {
        return PathBuf::from(d);
    }
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cache = crate::series::default_cache().join("assets");
        let tmp = std::env::temp_dir().join("mpath-verify-assets");
        materialise(&cache).or_else(|_| materialise(&tmp)).unwrap_or_else(|_| tmp.join(format!("kunit-{}", &digest()[..16])))
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                tree_files(&p, root, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_str().unwrap().to_string());
            }
        }
    }

    /// The embedded copies are the files of conformance/kunit, every one of
    /// them, byte for byte.
    #[test]
    fn embedded_files_are_the_tree_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("kunit");
        for (path, bytes) in FILES {
            assert_eq!(std::fs::read(root.join(path)).unwrap(), *bytes, "{path}");
        }
        let mut files = Vec::new();
        tree_files(&root, &root, &mut files);
        files.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(files, embedded, "conformance/kunit and the embedded list differ");
        for must in
            ["run-kunit.sh", "ktap_verdict.py", "nvme-6.12.kunitconfig", "wiring/Kconfig.fragment", "race/nvme-6.12-sched.patch", "nvme-6.12/mpv_harness.h"]
        {
            assert!(get(must).is_some(), "{must} is not embedded");
        }
    }

    /// Materialised once, reused, and the copy is what was embedded (the
    /// script executable); a different content would get another directory.
    #[test]
    fn materialise_writes_a_content_addressed_copy() {
        let base = std::env::temp_dir().join(format!("mpv-assets-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let d = materialise(&base).unwrap();
        assert_eq!(d.file_name().unwrap().to_str().unwrap(), format!("kunit-{}", &digest()[..16]));
        for (path, bytes) in FILES {
            assert_eq!(std::fs::read(d.join(path)).unwrap(), *bytes, "{path}");
        }
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(d.join("run-kunit.sh")).unwrap().permissions().mode() & 0o111, 0o111);
        // A second call reuses the directory (a file removed from it stays removed).
        std::fs::remove_file(d.join("NOTES.md")).unwrap();
        assert_eq!(materialise(&base).unwrap(), d);
        assert!(!d.join("NOTES.md").exists());
        // Without the marker it is written again.
        std::fs::remove_dir_all(&d).unwrap();
        assert!(materialise(&base).unwrap().join("NOTES.md").is_file());
        let _ = std::fs::remove_dir_all(&base);
    }
}
