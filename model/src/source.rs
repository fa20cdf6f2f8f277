//! A revision's own source: how its tree names the model's functions, and
//! the files where it defines them (the `source` field of a revision
//! file). Used by the revision loader and by every renderer.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// How a revision's own source names the model's functions, and where it
/// defines them: the `source` field of a revision file, e.g. nvme-6.12's
/// `"mpath_round_robin_path": "nvme_round_robin_path"`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceMap {
    /// The tree the names belong to (`"Linux 6.12"`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tree: String,
    /// Files, relative to the tree's root, searched for definitions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Model name (a function or a helper in a primitive) -> the tree's
    /// name. Names not listed are the tree's own already.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

impl SourceMap {
    /// The tree's name for model function `f`.
    pub fn name<'a>(&'a self, f: &'a str) -> &'a str {
        self.names.get(f).map(String::as_str).unwrap_or(f)
    }

    /// `text` with every identifier the map lists replaced by the tree's
    /// name (whole identifiers only).
    pub fn rename(&self, text: &str) -> String {
        if self.names.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        let flush = |w: &mut String, out: &mut String| {
            out.push_str(self.name(w));
            w.clear();
        };
        for c in text.chars() {
            if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }

    /// Where each of `funcs` (the tree's names) is defined in `tree`:
    /// `name -> "file:line"`, for those found in the map's files. A
    /// definition is a line at column 0 that names the function followed
    /// by `(` and is not a declaration (does not end with `;`).
    pub fn locate(&self, tree: &Path, funcs: &[String]) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for file in &self.files {
            let Ok(text) = std::fs::read_to_string(tree.join(file)) else { continue };
            for (i, line) in text.lines().enumerate() {
                if line.is_empty()
                    || line.starts_with(|c: char| c.is_whitespace() || matches!(c, '#' | '*' | '/' | '}' | '{'))
                    || line.trim_end().ends_with(';')
                {
                    continue;
                }
                for f in funcs {
                    if out.contains_key(f) {
                        continue;
                    }
                    if let Some(at) = line.find(&format!("{f}(")) {
                        let before = line[..at].chars().last();
                        if before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')) {
                            out.insert(f.clone(), format!("{file}:{}", i + 1));
                        }
                    }
                }
            }
        }
        out
    }
}
