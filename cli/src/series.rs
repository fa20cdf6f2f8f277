//! `series prepare`: a kernel tree carrying a libmultipath series.

use crate::exit::{self, Exit};
use clap::Subcommand;
use mpath_conformance::series;

#[derive(Subcommand)]
pub enum SeriesCmd {
    /// Apply a series (directory of patch mails or mbox) to a scratch copy of
    /// the base tree, with the 6.12 shim if needed; the last line is the tree.
    #[command(group = clap::ArgGroup::new("from").required(true).args(["series", "tree"]))]
    Prepare {
        /// A directory of patch mails or an mbox (`b4 am`).
        #[arg(long)]
        series: Option<String>,
        /// A tree that already carries the series: validated, never modified.
        #[arg(long)]
        tree: Option<String>,
        /// The unpacked base tree (never modified) [default: $MPATH_KERNEL_CACHE/linux-source-6.12].
        #[arg(long)]
        kernel_src: Option<String>,
        /// Where series/<basename(kernel-src)> lives [default: $MPATH_KERNEL_CACHE or ~/.cache/mpath-verify].
        #[arg(long)]
        cache: Option<String>,
        /// Overwrite files of the scratch tree that were edited outside prepare.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn cmd_series(cmd: SeriesCmd) -> Exit {
    match cmd {
        SeriesCmd::Prepare { series: s, tree, kernel_src, cache, force, json } => {
            let source = match (s, tree) {
                (Some(s), _) => series::Source::Series(s.into()),
                (None, Some(t)) => series::Source::Tree(t.into()),
                (None, None) => {
                    eprintln!("error: series prepare: give --series PATH or --tree TREE");
                    return Exit::BadInput;
                }
            };
            let mut o = series::PrepareOpts::new(source);
            o.force = force;
            if let Some(k) = kernel_src {
                o.kernel_src = k.into();
            }
            if let Some(c) = cache {
                o.cache = c.into();
            }
            match series::prepare(&o) {
                Ok(p) => {
                    if json {
                        println!("{}", serde_json::to_string(&p).unwrap_or_default());
                    } else {
                        for l in p.report_lines() {
                            println!("{l}");
                        }
                        println!("{}", p.tree.display());
                    }
                    Exit::Ok
                }
                Err(e) => exit::report(&e),
            }
        }
    }
}
