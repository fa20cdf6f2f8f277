//! The review catalogue (`review-races.md`) as model runs: each entry is a
//! shipped scenario, the property it is about, and the expected verdict per
//! revision (the catalogue's Summary table). Where reviewer and author
//! disagree, there are two scenarios (library-level call order and the
//! NVMe call order) and the note says which side the model supports.

use crate::checker::{check, Bounds, ModelError, Report, Verdict};
use crate::property as p;
use crate::revision::{RevisionError, RevisionSpec, CATALOGUE_REVISIONS};
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
    /// Expected verdict for v1, v2, v3, nvme-6.12; `None`: the entry is
    /// not about that revision (its column has no expectation, and a
    /// catalogue run of that revision, or of one deriving its expectations
    /// from it, leaves the entry out).
    pub expected: [(&'static str, Option<Expect>); 4],
    /// What the result says (which side the model supports, call order).
    pub note: &'static str,
}

impl Entry {
    pub fn expected_for(&self, revision: &str) -> Option<Expect> {
        self.expected.iter().find(|(r, _)| *r == revision).and_then(|(_, e)| *e)
    }
}

use Expect::{NotReproducible as N, Reproduced as Y};

const fn exp(a: Expect, b: Expect, c: Expect, d: Expect) -> [(&'static str, Option<Expect>); 4] {
    [("v1", Some(a)), ("v2", Some(b)), ("v3", Some(c)), ("nvme-6.12", Some(d))]
}

/// An entry about Linux 6.12 only (the library revisions' columns have no
/// expectation for it).
const fn nvme_6_12_only(d: Expect) -> [(&'static str, Option<Expect>); 4] {
    [("v1", None), ("v2", None), ("v3", None), ("nvme-6.12", Some(d))]
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
            id: "S03a",
            scenario: "S03a-B",
            property: p::NO_STRANDED_REQUEUE,
            expected: nvme_6_12_only(Y),
            note: "6.12 finding (unconfirmed in the kernel): R2 loaded the departing old, list_is_singular after list_del_rcu sees it disabled and returns NULL, nvme_available_path (the other ctrl LIVE) requeues the bio; nvme_ns_remove of a path that is not the last kicks no requeue work (core.c nvme_ns_remove: only nvme_mpath_shutdown_disk does, on the last path), so the bio waits on head->requeue_list for the next unrelated kick",
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
        Entry {
            id: "S03b",
            scenario: "S03b-nvme",
            property: p::NO_STRANDED_REQUEUE,
            expected: nvme_6_12_only(Y),
            note: "6.12 finding (unconfirmed in the kernel): that spurious requeue is never resubmitted: nvme_ns_remove of a path that is not the last kicks no requeue work, the bio waits on head->requeue_list while P1 is usable (as S03a-B)",
        },
        Entry {
            id: "S03c",
            scenario: "S03c",
            property: p::NO_DISABLED_RETURNED,
            expected: exp(Y, Y, Y, N),
            note: "NUMA fast path returns the cached path between revalidate's READY clear and mpath_clear_paths; not through submit_bio in 6.12: nvme_update_ns_info freezes the head queue around the revalidation (core.c blk_mq_freeze_queue(ns->head->disk->queue)) and a bio enters that queue (bio_queue_enter in __submit_bio) before nvme_ns_head_submit_bio selects",
        },
        Entry {
            id: "S03c",
            scenario: "S03c-ioctl",
            property: p::NO_DISABLED_RETURNED,
            expected: nvme_6_12_only(Y),
            note: "6.12 keeps the S03c window for ioctls: nvme_ns_head_chr_ioctl selects under head->srcu only and does not enter the frozen head queue",
        },
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

/// Where a catalogue id was raised (`review-races.md`, copied by hand: the
/// catalogue is test input and is not read at run time). Several entries
/// share an id (the library-level and NVMe-order scenarios of one claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Review {
    /// Catalogue id (R4, S03a, ...).
    pub id: &'static str,
    /// The claim in one line.
    pub claim: &'static str,
    /// Who raised it (or, for N1 / N2, that nobody did).
    pub raised_by: &'static str,
    /// The subject of the patch mail the review answered (for N1 / N2:
    /// where the code comment lives).
    pub patch: &'static str,
    /// The review's Message-ID, without angle brackets (`None`: not raised
    /// in review).
    pub message_id: Option<&'static str>,
    /// The catalogue's status line.
    pub status: &'static str,
}

/// The review behind every catalogue id, in catalogue order.
pub const REVIEWS: &[Review] = &[
    Review {
        id: "R4",
        claim: "v1 mpath_device_set_live() dereferences mpath_disk before its NULL check",
        raised_by: "Benjamin Marzinski",
        patch: "[PATCH 02/13] libmultipath: Add basic gendisk support",
        message_id: Some("aZ-s-JNWBOA1xqVG@redhat.com"),
        status: "fixed in v2",
    },
    Review {
        id: "R12",
        claim: "v1 __mpath_find_path() stores uninitialised found/fallback into current_path",
        raised_by: "Nilay Shroff",
        patch: "[PATCH 03/13] libmultipath: Add path selection support",
        message_id: Some("93696b95-7c01-4988-8fe2-baf427469f4f@linux.ibm.com"),
        status: "fixed in v2",
    },
    Review {
        id: "S02b",
        claim: "set_live racing remove_disk leaves the gendisk added with DISK_LIVE clear (leaked)",
        raised_by: "sashiko-bot",
        patch: "[PATCH v3 02/13] libmultipath: Add basic gendisk support",
        message_id: Some("20260703105132.44EF31F000E9@smtp.kernel.org"),
        status: "reviewer claim, author disputed",
    },
    Review {
        id: "S03a",
        claim: "the round-robin loop never terminates once the cached old path is unlinked",
        raised_by: "sashiko-bot",
        patch: "[PATCH v3 03/13] libmultipath: Add path selection support",
        message_id: Some("20260703104556.AC6B71F000E9@smtp.kernel.org"),
        status: "reviewer claim, author disputed",
    },
    Review {
        id: "S03b",
        claim: "list_is_singular() racing removal returns the unlinked old path",
        raised_by: "sashiko-bot",
        patch: "[PATCH v3 03/13] libmultipath: Add path selection support",
        message_id: Some("20260703104556.AC6B71F000E9@smtp.kernel.org"),
        status: "reviewer claim, author disputed",
    },
    Review {
        id: "S03c",
        claim: "the NUMA fast path returns a cached path without checking is_disabled",
        raised_by: "sashiko-bot",
        patch: "[PATCH v3 03/13] libmultipath: Add path selection support",
        message_id: Some("20260703104556.AC6B71F000E9@smtp.kernel.org"),
        status: "acknowledged",
    },
    Review {
        id: "S07",
        claim: "the ioctl path is used after the SRCU read lock is dropped (use-after-free)",
        raised_by: "sashiko-bot",
        patch: "[PATCH v3 07/13] libmultipath: Add cdev support",
        message_id: Some("20260703104832.5166A1F000E9@smtp.kernel.org"),
        status: "acknowledged",
    },
    Review {
        id: "S01",
        claim: "v3 mpath_head_uninit() returns before mpath_put_head() ran the cleanup (use-after-free)",
        raised_by: "sashiko-bot",
        patch: "[PATCH v3 01/13] libmultipath: Add initial framework",
        message_id: Some("20260703104311.C18771F00A3D@smtp.kernel.org"),
        status: "acknowledged",
    },
    Review {
        id: "N1",
        claim: "sysfs link creation needs test_and_set_bit, or a link is created twice",
        raised_by: "nobody (mainline code comment in nvme_mpath_add_sysfs_link)",
        patch: "[PATCH v3 10/10] nvme-multipath: switch to use libmultipath",
        message_id: None,
        status: "derived from mainline code",
    },
    Review {
        id: "N2",
        claim: "each synchronize in nvme_ns_remove stops a reader re-installing or using the departing path",
        raised_by: "nobody (mainline code comments in nvme_ns_remove)",
        patch: "[PATCH v3 10/10] nvme-multipath: switch to use libmultipath",
        message_id: None,
        status: "derived from mainline code",
    },
];

/// The review behind catalogue id `id`.
pub fn review(id: &str) -> Option<&'static Review> {
    REVIEWS.iter().find(|r| r.id == id)
}

impl Review {
    /// `who on "subject" <message-id>` in one line.
    pub fn raised_where(&self) -> String {
        match self.message_id {
            Some(m) => format!("{} on \"Re: {}\" <{m}>", self.raised_by, self.patch),
            None => format!("{}; the code is carried into \"{}\"", self.raised_by, self.patch),
        }
    }
}

impl Expect {
    /// The expectation in words.
    pub fn words(self) -> &'static str {
        match self {
            Expect::Reproduced => "reproduced",
            Expect::NotReproducible => "not reproducible",
        }
    }
}

/// A verdict in the catalogue's words: a violation found is "reproduced",
/// none within the bounds "not reproducible".
pub fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Violated => "reproduced",
        Verdict::Holds => "not reproducible",
        Verdict::BoundReached => "bound reached",
        Verdict::Interrupted => "interrupted",
    }
}

/// An expected verdict and where it comes from: a catalogue column
/// (`"v2"`), or a revision's declaration (`"mut-no-sync1 breaks"`,
/// `"v2-fixed fixes"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expected {
    pub expect: Expect,
    pub from: String,
}

/// One (scenario, property) pair with an expected verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectedPair {
    /// The scenario's name.
    pub scenario: String,
    /// How to load it (a shipped name or a scenario file).
    pub scenario_spec: String,
    pub property: String,
    pub expected: Expected,
}

/// The verdicts a revision is checked against.
///
/// * v1, v2, v3 and nvme-6.12 have their own column in the catalogue.
/// * Any other revision (v2-fixed, a mutant, a revision file) has the
///   expectations of the revision named by its `base`, computed the same
///   way (so the chain ends in a column); without a `base`, those of its
///   `reference_profile` if that is a catalogue revision.
/// * On top, the revision's own declarations: each `breaks` pair is
///   expected VIOLATED, each `fixes` pair expected to hold. Everything not
///   declared keeps the inherited expectation, so a mutant is expected to
///   break exactly what it says it breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expectations {
    pub revision: String,
    /// The catalogue column the expectations start from; `None`: no column
    /// (only declared pairs have an expectation).
    pub column: Option<String>,
    /// How the column was reached, e.g. `"v2"` or `"mut-x -> v2-fixed -> v2"`.
    pub derivation: String,
    /// Every pair with an expectation: the catalogue entries (when there is
    /// a column) then declared pairs outside the catalogue.
    pub pairs: Vec<ExpectedPair>,
}

impl Expectations {
    /// The expectations of `revision` against the shipped catalogue.
    pub fn of(revision: &RevisionSpec) -> Result<Expectations, ModelError> {
        Self::with_entries(revision, &catalogue())
    }

    /// The expectations of `revision` against `entries`.
    pub fn with_entries(revision: &RevisionSpec, entries: &[Entry]) -> Result<Expectations, ModelError> {
        validate_entries(entries)?;
        Self::build(revision, entries, 0)
    }

    fn build(rev: &RevisionSpec, entries: &[Entry], depth: usize) -> Result<Expectations, ModelError> {
        if depth > 8 {
            return Err(RevisionError::BaseLoop(rev.name.clone()).into());
        }
        let column = |col: &str, derivation: String| Expectations {
            revision: rev.name.clone(),
            column: Some(col.to_string()),
            derivation,
            pairs: entries
                .iter()
                .filter_map(|e| {
                    e.expected_for(col).map(|x| ExpectedPair {
                        scenario: e.scenario.into(),
                        scenario_spec: e.scenario.into(),
                        property: e.property.into(),
                        expected: Expected { expect: x, from: col.into() },
                    })
                })
                .collect(),
        };
        let mut out = if CATALOGUE_REVISIONS.contains(&rev.name.as_str()) {
            column(&rev.name, rev.name.clone())
        } else if let Some(base) = &rev.base {
            let b = Self::build(&RevisionSpec::by_name(base)?, entries, depth + 1)?;
            Expectations { revision: rev.name.clone(), column: b.column, derivation: format!("{} -> {}", rev.name, b.derivation), pairs: b.pairs }
        } else {
            match rev.reference_profile.as_deref().filter(|p| CATALOGUE_REVISIONS.contains(p)) {
                Some(p) => column(p, format!("{} -> {p} (reference_profile)", rev.name)),
                None => Expectations { revision: rev.name.clone(), column: None, derivation: rev.name.clone(), pairs: Vec::new() },
            }
        };
        for (list, expect, verb) in [(&rev.breaks, Expect::Reproduced, "breaks"), (&rev.fixes, Expect::NotReproducible, "fixes")] {
            for d in list {
                let name = Scenario::load(&d.scenario)?.name;
                let expected = Expected { expect, from: format!("{} {verb}", rev.name) };
                match out.pairs.iter_mut().find(|p| p.scenario == name && p.property == d.property) {
                    Some(p) => p.expected = expected,
                    None => out.pairs.push(ExpectedPair { scenario: name, scenario_spec: d.scenario.clone(), property: d.property.clone(), expected }),
                }
            }
        }
        Ok(out)
    }

    /// The expectation for `property` on the scenario named `scenario`.
    pub fn get(&self, scenario: &str, property: &str) -> Option<&Expected> {
        self.pairs.iter().find(|p| p.scenario == scenario && p.property == property).map(|p| &p.expected)
    }

    /// Whether the expectations are the revision's own catalogue column
    /// with nothing declared on top.
    pub fn is_own_column(&self) -> bool {
        self.column.as_deref() == Some(self.revision.as_str()) && self.pairs.iter().all(|p| p.expected.from == self.revision)
    }
}

/// Every entry names a known property and a shipped scenario; a property
/// that does not exist would otherwise never be reported and the entry
/// could never fail.
pub fn validate_entries(entries: &[Entry]) -> Result<(), ModelError> {
    let known = p::names();
    for e in entries {
        if !known.contains(&e.property) {
            return Err(ModelError::Catalogue(format!(
                "catalogue entry {} (scenario {}): unknown property {:?} (known: {})",
                e.id,
                e.scenario,
                e.property,
                known.join(", ")
            )));
        }
        if !Scenario::shipped_names().contains(&e.scenario) {
            return Err(ModelError::Catalogue(format!(
                "catalogue entry {}: unknown scenario {:?} (known: {})",
                e.id,
                e.scenario,
                Scenario::shipped_names().join(", ")
            )));
        }
    }
    Ok(())
}

/// One catalogue row after running it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CatalogueResult {
    /// The catalogue entry; `None` for a pair the revision declares
    /// (`breaks` / `fixes`) outside the catalogue.
    pub entry: Option<Entry>,
    pub scenario: String,
    pub property: String,
    pub report: Report,
    pub expected: Option<Expect>,
    /// Where `expected` comes from (`"v2"`, `"mut-no-sync1 breaks"`).
    pub expected_from: Option<String>,
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

/// Whether a verdict is as expected: it meets the expectation, or there is
/// none and the property did not fail.
pub fn as_expected(v: Verdict, e: Option<Expect>) -> bool {
    match e {
        Some(e) => meets(v, e),
        None => v != Verdict::Violated,
    }
}

/// A finding in one sentence, or `None` when the verdict is as expected or
/// no verdict was reached (bound, interrupt).
pub fn finding(v: Verdict, e: Option<&Expected>) -> Option<String> {
    match (v, e) {
        (Verdict::Holds, Some(Expected { expect: Expect::Reproduced, from })) => {
            Some(format!("expected VIOLATED ({from}) but holds: the race no longer happens (fixed, or the model lost it)"))
        }
        (Verdict::Violated, Some(Expected { expect: Expect::NotReproducible, from })) => Some(format!("expected to hold ({from}) but VIOLATED")),
        (Verdict::Violated, None) => Some("VIOLATED, and no expectation says it may fail".into()),
        _ => None,
    }
}

/// Default bounds for catalogue runs.
pub fn default_bounds() -> Bounds {
    Bounds::default()
}

/// Run every catalogue entry on `revision`, plus the pairs it declares
/// outside the catalogue.
pub fn run_catalogue(revision: &RevisionSpec, bounds: &Bounds, stop: &AtomicBool) -> Result<Vec<CatalogueResult>, ModelError> {
    run_entries(&catalogue(), revision, bounds, stop)
}

/// [`run_catalogue`] over the given entries. Errors (before any checking)
/// when an entry names an unknown property or scenario, or when the
/// revision has no expectations for the entries (no catalogue column
/// reachable through `base` / `reference_profile`).
pub fn run_entries(entries: &[Entry], revision: &RevisionSpec, bounds: &Bounds, stop: &AtomicBool) -> Result<Vec<CatalogueResult>, ModelError> {
    let exps = Expectations::with_entries(revision, entries)?;
    if exps.column.is_none() {
        return Err(ModelError::Catalogue(format!(
            "revision {}: no expected verdicts: it is none of {} and neither its \"base\" nor its \"reference_profile\" names one (add \"base\": \"v2\", then \"breaks\" / \"fixes\" for what it changes)",
            revision.name,
            CATALOGUE_REVISIONS.join(", ")
        )));
    }
    let mut reports: Vec<Report> = Vec::new();
    let mut out = Vec::new();
    let mut report_for = |spec: &str, name: &str| -> Result<Report, ModelError> {
        if let Some(r) = reports.iter().find(|r| r.scenario == name) {
            return Ok(r.clone());
        }
        let sc = Scenario::load(spec)?;
        let r = check(revision, &sc, bounds, None, stop)?;
        reports.push(r.clone());
        Ok(r)
    };
    // Entries without an expectation for the revision's column are about
    // other revisions (e.g. 6.12 only) and are left out.
    let rows = entries
        .iter()
        .filter(|e| exps.get(e.scenario, e.property).is_some())
        .map(|e| (Some(e.clone()), e.scenario.to_string(), e.scenario.to_string(), e.property.to_string()))
        .chain(
            exps.pairs
                .iter()
                .filter(|x| !entries.iter().any(|e| e.scenario == x.scenario && e.property == x.property))
                .map(|x| (None, x.scenario.clone(), x.scenario_spec.clone(), x.property.clone())),
        );
    for (entry, scenario, spec, property) in rows {
        let report = report_for(&spec, &scenario)?;
        let verdict = report.verdict(&property).ok_or_else(|| ModelError::Catalogue(format!("scenario {scenario}: no verdict for property {property:?}")))?;
        let expected = exps.get(&scenario, &property);
        let matches_expectation = as_expected(verdict, expected.map(|x| x.expect));
        out.push(CatalogueResult {
            entry,
            scenario,
            property,
            report,
            expected: expected.map(|x| x.expect),
            expected_from: expected.map(|x| x.from.clone()),
            verdict,
            matches_expectation,
        });
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
