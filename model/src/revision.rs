//! Revisions as data: a revision is a table of step programs, one per
//! library or driver function, loaded from JSON (`model/revisions/*.json`).
//! A file may name a `base` revision and override only some functions, so a
//! mutant or a proposed v4 is a small file. The shipped files are embedded
//! with `include_str!`; any other file can be loaded by path.

use crate::step::{CStep, Step};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One revision file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionSpec {
    pub name: String,
    /// Revision whose functions this file starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The reference profile used when a counterexample is turned into a
    /// trace (default: `name` if the reference knows it, else the base's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_profile: Option<String>,
    /// The reference profile's settings (registry files only: read by
    /// `mpath-reference`; a revision file given by path names its
    /// reference profile with `reference_profile` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<serde_json::Map<String, serde_json::Value>>,
    /// (property, scenario) pairs this revision makes fail where the
    /// revision it derives its expectations from (its `base`) has them
    /// hold: a mutant lists what the mutation breaks. `check --catalogue`
    /// expects exactly these to change (see `catalogue::Expectations`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breaks: Vec<Declared>,
    /// (property, scenario) pairs this revision makes hold where its base
    /// has them fail: a fix, or a mutation that hides a failure (`note`
    /// says which and why).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Declared>,
    /// Function name -> step program; `null` removes a base function (the
    /// revision lacks it, so operations that need it are rejected).
    #[serde(default)]
    pub functions: BTreeMap<String, Option<Vec<Step>>>,
    /// The revision's own source names and files (`source::SourceMap`);
    /// inherited from the base when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::source::SourceMap>,
}

/// One declared verdict change: `property` on `scenario` (a shipped
/// scenario name or a scenario file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    pub property: String,
    pub scenario: String,
    /// Why (optional).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The shipped revision files, by name.
/// Shipped revisions: the one registry (`mpath_reference::revision::REGISTRY`),
/// whose files also carry each revision's reference profile.
pub const SHIPPED: &[(&str, &str)] = mpath_reference::revision::REGISTRY;

/// The functions a registry file defines itself (its overrides of its
/// base's step programs), sorted; every function for a file without base.
pub fn overridden_functions(name: &str) -> Vec<String> {
    let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name) else { return Vec::new() };
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("functions").and_then(|f| f.as_object()).map(|f| f.keys().cloned().collect()))
        .unwrap_or_default()
}

/// What is wrong with a registry (`(name, file text)`, as
/// [`SHIPPED`]): a name that resolves on one side only (no reference
/// profile, no step programs, a file naming another revision or another
/// reference profile), a mutant whose reference twin or step programs do
/// not carry its mutation (nothing differs from its base), a `reference`
/// field that repeats its base's value. Empty when sound.
pub fn check_registry(entries: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    let profiles = match mpath_reference::revision::resolve_registry(entries) {
        Ok(p) => p,
        Err(e) => return vec![e],
    };
    for (name, text) in entries {
        let file = format!("model/revisions/{name}.json");
        let Some(p) = profiles.iter().find(|p| p.name == *name) else {
            out.push(format!("{file}: no reference profile"));
            continue;
        };
        let spec = match RevisionSpec::parse(text) {
            Ok(s) => s,
            Err(e) => {
                out.push(format!("{file}: step programs: {e}"));
                continue;
            }
        };
        if spec.name != *name {
            out.push(format!("{file}: step programs named {:?}", spec.name));
        }
        if let Some(r) = &spec.reference_profile {
            out.push(format!("{file}: names reference profile {r:?}: a registry revision's reference twin is its own `reference`"));
        }
        if let Err(e) = spec.clone().resolve(0).and_then(|s| s.compile()) {
            out.push(format!("{file}: step programs: {e}"));
        }
        let Some(base) = &spec.base else { continue };
        let Some(bp) = profiles.iter().find(|q| q.name == *base) else {
            out.push(format!("{file}: base {base:?} has no reference profile"));
            continue;
        };
        let bv = serde_json::to_value(bp).unwrap_or_default();
        for (k, v) in spec.reference.iter().flatten() {
            if bv.get(k) == Some(v) {
                out.push(format!("{file}: reference field {k:?} repeats its base {base}'s value"));
            }
        }
        let changes_reference = !p.differences_from(bp).is_empty();
        let changes_programs = spec.functions.values().any(|f| f.is_some());
        if name.starts_with("mut-") || *name == "v2-fixed" {
            if !changes_reference {
                out.push(format!("{file}: its reference twin does not carry its mutation (same profile as {base})"));
            }
            if !changes_programs {
                out.push(format!("{file}: its step programs do not carry its mutation (same as {base})"));
            }
        }
    }
    out
}

pub const CATALOGUE_REVISIONS: &[&str] = &["v1", "v2", "v3", "nvme-6.12"];

use mpath_reference::trace::one_line;

#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    #[error("revision {0:?} is not shipped (known: {1})")]
    Unknown(String, String),
    /// A file that is not valid JSON for a revision: `file:line:column: reason`.
    #[error("{name}:{line}:{column}: {}", one_line(msg))]
    Parse { name: String, line: usize, column: usize, msg: String },
    /// A well-formed file that declares something unknown (a property or
    /// scenario in `breaks` / `fixes`).
    #[error("revision {name}: {}", one_line(msg))]
    Invalid { name: String, msg: String },
    #[error("revision {rev}: function {}: {}", one_line(func), one_line(msg))]
    Compile { rev: String, func: String, msg: String },
    #[error("revision base chain too deep at {0}")]
    BaseLoop(String),
    #[error("{0}: {1}")]
    Io(String, String),
}

impl RevisionSpec {
    /// Names of the shipped revisions (catalogue revisions, fixes, mutants).
    pub fn shipped_names() -> Vec<&'static str> {
        SHIPPED.iter().map(|(n, _)| *n).collect()
    }

    /// Names of the shipped mutants (`mut-*`).
    pub fn mutant_names() -> Vec<&'static str> {
        SHIPPED.iter().map(|(n, _)| *n).filter(|n| n.starts_with("mut-")).collect()
    }

    /// Parse a revision file's text (no base resolution).
    pub fn parse(text: &str) -> Result<RevisionSpec, RevisionError> {
        serde_json::from_str(text).map_err(|e| {
            // serde_json appends " at line L column C": the position is ours.
            let mut msg = e.to_string();
            if let Some(i) = msg.rfind(" at line ") {
                msg.truncate(i);
            }
            RevisionError::Parse { name: "<text>".into(), line: e.line(), column: e.column(), msg }
        })
    }

    /// A shipped revision by name, with its base chain resolved.
    pub fn by_name(name: &str) -> Result<RevisionSpec, RevisionError> {
        let name = match name {
            "6.12" | "mainline" => "nvme-6.12",
            n => n,
        };
        let text =
            SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).ok_or_else(|| RevisionError::Unknown(name.into(), Self::shipped_names().join(", ")))?;
        let spec = Self::parse(text).map_err(|e| match e {
            RevisionError::Parse { line, column, msg, .. } => RevisionError::Parse { name: name.into(), line, column, msg },
            e => e,
        })?;
        spec.validate_declarations(name)?;
        spec.resolve(0)
    }

    /// A shipped name or a path to a JSON file.
    pub fn load(name_or_path: &str) -> Result<RevisionSpec, RevisionError> {
        if name_or_path.ends_with(".json") || name_or_path.contains('/') {
            let text = std::fs::read_to_string(name_or_path).map_err(|e| RevisionError::Io(name_or_path.into(), e.to_string()))?;
            Self::from_text(name_or_path, &text)
        } else {
            Self::by_name(name_or_path)
        }
    }

    /// A revision file's text, as `load` reads a file: parsed, its
    /// declarations checked and its base chain resolved. `file` names it in
    /// errors.
    pub fn from_text(file: &str, text: &str) -> Result<RevisionSpec, RevisionError> {
        let spec = Self::parse(text).map_err(|e| match e {
            RevisionError::Parse { line, column, msg, .. } => RevisionError::Parse { name: file.into(), line, column, msg },
            e => e,
        })?;
        if spec.reference.is_some() && !SHIPPED.iter().any(|(n, _)| *n == spec.name) {
            return Err(RevisionError::Invalid {
                name: file.into(),
                msg: format!(
                    "\"reference\": {:?} is not in the registry (model/revisions/<name>.json), so the reference has no such profile; name one with \"reference_profile\"",
                    spec.name
                ),
            });
        }
        spec.validate_declarations(file)?;
        spec.resolve(0)
    }

    /// `breaks` and `fixes` name known properties and loadable scenarios,
    /// and no (property, scenario) pair is declared twice. `file` names the
    /// revision in the error (the path when loaded from a file).
    pub fn validate_declarations(&self, file: &str) -> Result<(), RevisionError> {
        let known = crate::property::names();
        let mut seen: Vec<(String, &str)> = Vec::new();
        for (key, list) in [("breaks", &self.breaks), ("fixes", &self.fixes)] {
            for (i, d) in list.iter().enumerate() {
                let err = |msg: String| RevisionError::Invalid { name: file.into(), msg: format!("{key}[{i}]: {msg}") };
                if !known.contains(&d.property.as_str()) {
                    return Err(err(format!("unknown property {:?} (known: {})", d.property, known.join(", "))));
                }
                let sc = crate::scenario::Scenario::load(&d.scenario).map_err(|e| err(format!("scenario {:?}: {e}", d.scenario)))?;
                if seen.iter().any(|(s, p)| *s == sc.name && *p == d.property) {
                    return Err(err(format!("{} on {} is declared twice", d.property, sc.name)));
                }
                seen.push((sc.name, &d.property));
            }
        }
        Ok(())
    }

    /// Merge the base chain: functions of `self` override the base's.
    fn resolve(self, depth: usize) -> Result<RevisionSpec, RevisionError> {
        let Some(base) = self.base.clone() else { return Ok(self) };
        if depth > 8 {
            return Err(RevisionError::BaseLoop(self.name));
        }
        let text =
            SHIPPED.iter().find(|(n, _)| *n == base).map(|(_, t)| *t).ok_or_else(|| RevisionError::Unknown(base.clone(), Self::shipped_names().join(", ")))?;
        let b = Self::parse(text)?.resolve(depth + 1)?;
        let mut functions = b.functions.clone();
        for (k, v) in self.functions {
            match v {
                Some(steps) => {
                    functions.insert(k, Some(steps));
                }
                None => {
                    functions.remove(&k);
                }
            }
        }
        let reference_profile = self.reference_profile.or_else(|| {
            if mpath_reference::Profile::by_name(&self.name).is_some() {
                Some(self.name.clone())
            } else {
                Some(b.reference_profile.clone().unwrap_or(b.name.clone()))
            }
        });
        Ok(RevisionSpec {
            name: self.name,
            base: Some(base),
            description: self.description,
            reference_profile,
            reference: self.reference,
            breaks: self.breaks,
            fixes: self.fixes,
            functions,
            source: self.source.or(b.source),
        })
    }

    /// The reference profile name for traces.
    /// The reference profile a scenario's setup (its initial paths) runs
    /// on: the revision's own if it is a catalogue revision, else the
    /// catalogue revision its `base` chain reaches (a mutant or a fix is
    /// under test in the threads' operations, not in the setup: e.g.
    /// mut-sync-inside-srcu's reference twin deadlocks in any path
    /// arrival), else its reference profile.
    pub fn setup_profile_name(&self) -> String {
        if CATALOGUE_REVISIONS.contains(&self.name.as_str()) {
            return self.name.clone();
        }
        let mut base = self.base.clone();
        for _ in 0..8 {
            let Some(b) = base else { break };
            if CATALOGUE_REVISIONS.contains(&b.as_str()) {
                return b;
            }
            base = SHIPPED.iter().find(|(n, _)| *n == b).and_then(|(_, t)| Self::parse(t).ok()).and_then(|s| s.base);
        }
        self.reference_profile_name()
    }

    pub fn reference_profile_name(&self) -> String {
        if let Some(p) = &self.reference_profile {
            return p.clone();
        }
        if mpath_reference::Profile::by_name(&self.name).is_some() {
            self.name.clone()
        } else {
            "v2".into()
        }
    }

    /// Compile into an executable program table.
    pub fn compile(&self) -> Result<Program, RevisionError> {
        let names: Vec<String> = self.functions.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.clone()).collect();
        let index: HashMap<String, u16> = names.iter().enumerate().map(|(i, n)| (n.clone(), i as u16)).collect();
        let mut funcs = Vec::with_capacity(names.len());
        for name in &names {
            let steps = self.functions[name].as_deref().unwrap_or(&[]);
            let err = |msg: String| RevisionError::Compile { rev: self.name.clone(), func: name.clone(), msg };
            // Labels are removed; a label names the index of the next step.
            let mut labels: HashMap<&str, u16> = HashMap::new();
            let mut n = 0u16;
            for s in steps {
                if let Step::Label { name: l } = s {
                    if labels.insert(l.as_str(), n).is_some() {
                        return Err(err(format!("duplicate label {l:?}")));
                    }
                } else {
                    n += 1;
                }
            }
            let lab = |l: &str| labels.get(l).copied().ok_or_else(|| err(format!("unknown label {l:?}")));
            let mut out = Vec::with_capacity(n as usize);
            for s in steps {
                typed_arg(s).map_err(err)?;
                let c = match s {
                    Step::Label { .. } => continue,
                    Step::Goto { to } => CStep::Goto(lab(to)?),
                    Step::IfZero { r, to } => CStep::IfZero(*r, lab(to)?),
                    Step::IfNonZero { r, to } => CStep::IfNonZero(*r, lab(to)?),
                    Step::IfEq { a, b, to } => CStep::IfEq(*a, *b, lab(to)?),
                    Step::IfNe { a, b, to } => CStep::IfNe(*a, *b, lab(to)?),
                    Step::IfLt { a, b, to } => CStep::IfLt(*a, *b, lab(to)?),
                    Step::Call { f } => CStep::Call(*index.get(f.as_str()).ok_or_else(|| err(format!("calls unknown function {f:?}")))?),
                    s => CStep::Plain(s.clone()),
                };
                out.push(c);
            }
            funcs.push(Func { name: name.clone(), steps: out });
        }
        Ok(Program { revision: self.name.clone(), funcs, index })
    }
}

/// The typed stores (ANA state, iopolicy, a controller's state, a SCSI
/// device or ALUA state) take their value from `arg`, which only the
/// operation's entry writes, from the operation's typed argument
/// (`scenario::op_entry`): a step that reads another register for one, or
/// that writes `arg`, could store a byte that names no state, so it is a
/// compile error (the state's fields are enums).
fn typed_arg(s: &Step) -> Result<(), String> {
    use crate::step::{Field, Reg};
    let json = serde_json::to_value(s).unwrap_or_default();
    let field = |k: &str| json.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let value = match s {
        Step::SetAna { src, .. } | Step::SetIopolicy { src } | Step::Poke { field: Field::SdevState | Field::AluaState | Field::CtrlState, src, .. } => {
            Some(src)
        }
        Step::ChangeCtrlState { state, .. } => Some(state),
        _ => None,
    };
    if let Some(r) = value.filter(|r| **r != Reg::Arg) {
        return Err(format!(
            "step {:?} stores a state from register {}: a state comes from `arg`, the operation's typed argument",
            field("s"),
            crate::step::reg_name(*r)
        ));
    }
    // Every `dst` is written; of the `r`s, those of the steps below (the
    // others, `if_zero` / `if_non_zero`, only read theirs).
    let writes_r = matches!(s, Step::Set { .. } | Step::Inc { .. } | Step::Dec { .. } | Step::ListNext { .. } | Step::NextDev { .. });
    if field("dst") == "arg" || (writes_r && field("r") == "arg") {
        return Err(format!("step {:?} writes `arg`: it holds the operation's typed argument, which the typed stores read", field("s")));
    }
    Ok(())
}

/// A compiled function.
#[derive(Clone, Debug)]
pub struct Func {
    pub name: String,
    pub steps: Vec<CStep>,
}

/// A compiled revision: functions by id.
#[derive(Clone, Debug)]
pub struct Program {
    pub revision: String,
    pub funcs: Vec<Func>,
    pub index: HashMap<String, u16>,
}

impl Program {
    pub fn func(&self, name: &str) -> Option<u16> {
        self.index.get(name).copied()
    }
}
