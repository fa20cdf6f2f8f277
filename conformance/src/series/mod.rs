//! `mpath-verify series prepare`: stand up a kernel tree carrying a
//! libmultipath series, without touching the user's tree.
//!
//! The series (a directory of patch mails, or one mbox as `b4 am` writes
//! it) is checked for completeness, applied with GNU `patch` to copies of
//! the files it touches in a staging directory, given the 6.12
//! compatibility shim when the base tree needs it, and only then synced
//! into a scratch tree `$CACHE/series/<basename(BASE)>`: a copy of BASE
//! made once (`cp -a --reflink=auto`, renamed into place). A file whose
//! content is already right is not written, so its mtime stays and kbuild
//! does not rebuild it; switching series swaps only the files the two
//! series touch. Two files next to the tree (never inside it) record what
//! it is: `<tree>.mpv-base` (BASE's canonical path) and
//! `<tree>.mpv-series.json` (the [`State`]). Prepare takes the same lock
//! as `kunit run` (`<tree>.mpv-lock`), so it never swaps a series under a
//! running build.
//!
//! A file in the scratch tree whose content is neither BASE's, nor what
//! prepare last wrote there, nor what it would write now, was edited by
//! someone else (a hand-made tree, test wiring left in): it is left as is
//! and reported, unless `force`.
//!
//! Parts: `state` (errors, the API, the recorded state, options and
//! report), `mail` (reading the series), `apply` (patching a staging
//! copy), `shim` (the 6.12 compatibility shim), `prepare` (syncing into the
//! scratch tree, or validating a given one).

mod apply;
mod mail;
mod prepare;
mod shim;
mod state;
#[cfg(test)]
mod tests;

pub use prepare::prepare;
pub use shim::{needs_getgeo_shim, shim_getgeo};
pub use state::{
    default_cache, default_kernel_src, read_state, Api, PatchRecord, PrepareOpts, Prepared, SeriesError, Source, State, TreeAction, BACKUP_SUFFIX, LOCK_SUFFIX,
    MARKER_SUFFIX, SHIM_MARK, STATE_SUFFIX,
};
