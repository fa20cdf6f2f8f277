//! The review catalogue (`review-races.md`) as model runs: each entry is a
//! shipped scenario, the property it is about, and the expected verdict per
//! revision (the catalogue's Summary table). Where reviewer and author
//! disagree, there are two scenarios (library-level call order and the
//! NVMe call order) and the note says which side the model supports.

use crate::checker::{check, Bounds, ModelError, Report, Verdict};
use crate::property as p;
use crate::revision::RevisionSpec;
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicBool;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// A counterexample must be found.
    Reproduced,
    /// No violation within the scenario's bounds.
    NotReproducible,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Catalogue id (R4, S02b, ...).
    pub id: &'static str,
    /// Shipped scenario name.
    pub scenario: &'static str,
    /// The property the entry is about.
    pub property: &'static str,
    /// Expected verdict for v1, v2, v3, nvme-6.12.
    pub expected: [(&'static str, Expect); 4],
    /// What the result says (which side the model supports, call order).
    pub note: &'static str,
}

impl Entry {
    pub fn expected_for(&self, revision: &str) -> Option<Expect> {
        self.expected.iter().find(|(r, _)| *r == revision).map(|(_, e)| *e)
    }
}

use Expect::{NotReproducible as N, Reproduced as Y};

const fn exp(a: Expect, b: Expect, c: Expect, d: Expect) -> [(&'static str, Expect); 4] {
    [("v1", a), ("v2", b), ("v3", c), ("nvme-6.12", d)]
}

/// The catalogue entries.
pub fn catalogue() -> Vec<Entry> {
    vec![
        Entry { id: "R4", scenario: "R4", property: p::NO_NULL_DISK, expected: exp(Y, N, N, N), note: "set_live on a head without disk: v1 dereferences mpath_disk before the NULL check" },
        Entry { id: "R12", scenario: "R12", property: p::NO_JUNK_POINTER, expected: exp(Y, N, N, N), note: "v1 __mpath_find_path stores the uninitialised found/fallback when the last path is going away" },
        Entry {
            id: "S02b",
            scenario: "S02b-library",
            property: p::NO_LEAKED_GENDISK,
            expected: exp(Y, Y, Y, Y),
            note: "reviewer supported for an unserialised library-level call order (set_live || mpath_remove_disk): the gendisk stays added with DISK_LIVE clear",
        },
        Entry {
            id: "S02b",
            scenario: "S02b-nvme",
            property: p::NO_LEAKED_GENDISK,
            expected: exp(N, N, N, N),
            note: "author supported under the NVMe order: set_live runs from ANA work inside ctrl->srcu on a namespace still on ctrl->namespaces; nvme_ns_remove unlinks it and drains ctrl->srcu before nvme_mpath_remove_disk",
        },
        Entry {
            id: "S03a",
            scenario: "S03a-A",
            property: p::SELECTION_TERMINATES,
            expected: exp(Y, Y, Y, Y),
            note: "reviewer supported (scenario A, library-level delete of the cached path): the RR loop spins on Q",
        },
        Entry {
            id: "S03a",
            scenario: "S03a-B",
            property: p::SELECTION_TERMINATES,
            expected: exp(Y, Y, Y, Y),
            note: "reviewer supported even under the NVMe removal order (scenario B: R2 republishes Q so clear_current_path returns false and S2 is skipped)",
        },
        Entry {
            id: "S03b",
            scenario: "S03b-library",
            property: p::NO_UNLINKED_RETURNED,
            expected: exp(Y, Y, Y, Y),
            note: "reviewer supported at library level: list_is_singular after list_del_rcu(old) returns the unlinked old",
        },
        Entry {
            id: "S03b",
            scenario: "S03b-nvme",
            property: p::NO_UNLINKED_RETURNED,
            expected: exp(N, N, N, N),
            note: "under the NVMe order the departing path is disabled before it is unlinked: no unlinked path is returned (only a NULL return / spurious requeue)",
        },
        Entry { id: "S03c", scenario: "S03c", property: p::NO_DISABLED_RETURNED, expected: exp(Y, Y, Y, Y), note: "NUMA fast path returns the cached path between revalidate's READY clear and mpath_clear_paths" },
        Entry {
            id: "S07",
            scenario: "S07",
            property: p::NO_USE_AFTER_FREE,
            expected: exp(Y, Y, Y, N),
            note: "chr ioctl drops SRCU after ioctl_begin and then calls cdev_ioctl on the path; v1 modelled with the v2 shape (reference profile v1 does the same), 6.12 only uses the pinned ctrl",
        },
        Entry { id: "S01", scenario: "S01", property: p::NO_USE_AFTER_FREE, expected: exp(N, N, Y, N), note: "v3 mpath_head_uninit returns when the count reads 0 before the putter ran mpath_head_cleanup" },
        Entry { id: "N1", scenario: "N1", property: p::NO_DUPLICATE_LINK, expected: exp(N, N, N, N), note: "guarded by test_and_set_bit (mutant mut-link-test-then-set reproduces); 6.12 has no links" },
        Entry { id: "N2", scenario: "N2a", property: p::NO_STALE_PATH, expected: exp(N, N, N, N), note: "S1 stops a selector re-installing the departing path (mutant mut-no-sync1 reproduces)" },
        Entry { id: "N2", scenario: "N2c", property: p::NO_USE_AFTER_FREE, expected: exp(N, N, N, N), note: "S3 stops a list walker using the freed path (mutant mut-no-sync3 reproduces)" },
    ]
}

/// One catalogue row after running it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatalogueResult {
    pub entry: Entry,
    pub report: Report,
    pub expected: Option<Expect>,
    pub verdict: Verdict,
    pub matches_expectation: bool,
}

/// Whether a verdict meets an expectation.
pub fn meets(v: Verdict, e: Expect) -> bool {
    match e {
        Expect::Reproduced => v == Verdict::Violated,
        Expect::NotReproducible => v == Verdict::Holds,
    }
}

/// Default bounds for catalogue runs.
pub fn default_bounds() -> Bounds {
    Bounds::default()
}

/// Run every catalogue entry on `revision`.
pub fn run_catalogue(revision: &RevisionSpec, bounds: &Bounds, stop: &AtomicBool) -> Result<Vec<CatalogueResult>, ModelError> {
    let mut out = Vec::new();
    for e in catalogue() {
        let sc = Scenario::by_name(e.scenario)?;
        let report = check(revision, &sc, bounds, None, stop)?;
        let verdict = report.verdict(e.property).unwrap_or(Verdict::Holds);
        let expected = e.expected_for(&revision.name);
        let matches_expectation = expected.map(|x| meets(verdict, x)).unwrap_or(true);
        out.push(CatalogueResult { entry: e, report, expected, verdict, matches_expectation });
    }
    Ok(out)
}

/// A verdict that changes between two revisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRow {
    pub scenario: String,
    pub property: String,
    pub left: Verdict,
    pub right: Verdict,
}

/// Run every shipped scenario on both revisions; return only the
/// (scenario, property) verdicts that differ. Scenarios one of the
/// revisions cannot run (an operation it lacks, e.g. delayed removal on
/// nvme-6.12) are skipped.
pub fn diff(r1: &RevisionSpec, r2: &RevisionSpec, bounds: &Bounds, stop: &AtomicBool) -> Result<Vec<DiffRow>, ModelError> {
    let mut out = Vec::new();
    for name in Scenario::shipped_names() {
        let sc = Scenario::by_name(name)?;
        let (a, b) = match (check(r1, &sc, bounds, None, stop), check(r2, &sc, bounds, None, stop)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(ModelError::Scenario(_)), _) | (_, Err(ModelError::Scenario(_))) => continue,
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        for (pa, pb) in a.properties.iter().zip(b.properties.iter()) {
            if pa.verdict != pb.verdict {
                out.push(DiffRow { scenario: name.into(), property: pa.property.clone(), left: pa.verdict, right: pb.verdict });
            }
        }
    }
    Ok(out)
}
