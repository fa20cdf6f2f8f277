//! stateright's Explorer on a (revision, scenario) pair.

use crate::checker::{machine, ModelError};
use crate::revision::RevisionSpec;
use crate::scenario::Scenario;
use stateright::Model;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Serve the Explorer on `addr` (e.g. `127.0.0.1:3000`); blocks. States
/// are shown with their `Debug` rendering, steps as
/// `thread: function: primitive`.
pub fn explore(revision: &RevisionSpec, scenario: &Scenario, addr: &str) -> Result<(), ModelError> {
    let m = machine(revision, scenario, Arc::new(AtomicBool::new(false)))?;
    m.checker().serve(addr);
    Ok(())
}
