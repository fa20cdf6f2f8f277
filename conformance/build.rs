//! Embeds every file under `kunit/` (run-kunit.sh, the wiring fragments,
//! the kunitconfigs, the race patches, the C headers) into the library:
//! `kunit::assets::FILES`, one `(relative path, bytes)` per file, sorted.
//! The list is generated, so a file added to or removed from `kunit/` needs
//! no edit here and the embedded copies cannot drift from the files.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("kunit");
    println!("cargo:rerun-if-changed=kunit");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut src = String::from("/// Every file under conformance/kunit: (path relative to it, content).\npub const FILES: &[(&str, &[u8])] = &[\n");
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under kunit/").to_str().expect("UTF-8 path");
        // Through CARGO_MANIFEST_DIR, not this run's absolute path: a build
        // of another checkout sharing the target dir (scripts/install-check)
        // can leave this file behind for this one.
        src.push_str(&format!("    ({rel:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/kunit/{rel}\"))),\n"));
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("kunit_assets.rs");
    std::fs::write(&out, src).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
