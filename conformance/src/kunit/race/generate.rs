//! The generated C: one KUnit case per schedule, and the suite around them.

use super::backend::{RaceBackend, RACE_ENGINE, RACE_LIB, RACE_NVME, RACE_SUITE};
use super::input::RaceInput;
use super::points::{place, property_c, Place};
use crate::kunit::export::{c_str, nvme612_harness_embedded};
use mpath_reference::ops::Op;
use serde::Serialize;
use std::fmt::Write as _;

/// A hooked step of the generated table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HookedStep {
    pub model_index: usize,
    pub thread: usize,
    pub point: String,
    /// Expected path: id, -1 NULL, -3 not checked.
    pub path: i64,
}

/// The generated suite and what the generator could not place exactly.
#[derive(Clone, Debug, Serialize)]
pub struct RaceSuite {
    #[serde(skip)]
    pub source: String,
    pub case: String,
    pub hooked: Vec<HookedStep>,
    /// Steps that run with their thread's previous point although another
    /// thread's step lies between them in the model.
    pub approximations: Vec<String>,
    pub backend: RaceBackend,
}

/// The world of a schedule's header. A setup `add_path` (driver path
/// arrival: nvme_init_ns_head's list add, then nvme_mpath_set_live) is
/// driven as the harness's path add with its ANA state plus
/// NVME_NSHEAD_DISK_LIVE on the head: the flag set_live sets, without the
/// head gendisk registration a KUnit test cannot do (nothing in the race
/// engine reaches that disk).
pub fn race_setup(h: &mpath_reference::trace::Header) -> Result<(String, Vec<Option<usize>>), String> {
    let mut h2 = h.clone();
    let mut live = false;
    // The works set_live queues (partition scan, a requeue kick of an empty
    // list) touch nothing the race reads: a setup `run_works` is dropped.
    h2.setup.retain(|op| !matches!(op, Op::RunWorks { .. }));
    for op in h2.setup.iter_mut() {
        if let Op::AddPath { path, ctrl, capacity, ana, alua, missing_ops } = op {
            if ana.is_none() || alua.is_some() || !missing_ops.is_empty() || *capacity != mpath_reference::ops::DEFAULT_CAPACITY {
                return Err(format!("add_path of path {path}: only NVMe paths with an ANA state and the default capacity are driven"));
            }
            *op = Op::AddDevice { path: *path, ctrl: *ctrl, ana: *ana };
            live = true;
        }
    }
    let (mut lines, map) = crate::kunit::export::nvme612_setup_lines(&h2, &crate::kunit::export::Target::uml())?;
    if live {
        lines.push_str("\t/* add_path: nvme_mpath_set_live's flag, without registering the head disk */\n");
        lines.push_str("\tset_bit(NVME_NSHEAD_DISK_LIVE, &w->head->flags);\n");
    }
    // What set_live leaves behind that the path add does not: current_path[]
    // (its __nvme_find_path for an optimized path) and the path flags, as
    // the reference has them after the full setup.
    let obs = h.instantiate()?.observe();
    lines.push_str("\t/* the state the setup leaves, from the reference */\n");
    for (node, cp) in obs.current_path.unwrap_or_default().iter().enumerate() {
        let v = match cp {
            None => "MPV_NONE".to_string(),
            Some(p) if *p >= 0 => map.get(*p as usize).copied().flatten().ok_or_else(|| format!("current_path names path {p}, not added"))?.to_string(),
            Some(_) => return Err("the setup leaves a junk current_path".into()),
        };
        let _ = writeln!(lines, "\tmpv_set_current_path(w, {}, {v});", h.topology.possible[node]);
    }
    let ready = obs.ready.unwrap_or_default();
    let pending = obs.ana_pending.unwrap_or_default();
    for (p, idx) in map.iter().enumerate() {
        if let Some(i) = idx {
            if !ready.contains(&(p as u32)) {
                let _ = writeln!(lines, "\tmpv_set_ready(w, {i}, false);");
            }
            if pending.contains(&(p as u32)) {
                let _ = writeln!(lines, "\tmpv_set_ana_pending(w, {i}, true);");
            }
        }
    }
    Ok((lines, map))
}

/// Why the race engine cannot replay a schedule: one line naming the
/// schedule file and the reason (a property without a kernel-side check,
/// too many threads, a step, operation or path it cannot drive).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Undrivable(pub String);

/// Builds the case for `input` on its backend, or says why the schedule
/// cannot be replayed.
pub fn generate(input: &RaceInput) -> Result<RaceSuite, Undrivable> {
    build_case(input).map_err(Undrivable)
}

fn build_case(input: &RaceInput) -> Result<RaceSuite, String> {
    let f = &input.file;
    let backend = RaceBackend::of(input)?;
    let prop = property_c(&input.property).ok_or_else(|| format!("{f}: property {}: the race engine has no kernel-side check for it", input.property))?;
    if input.threads.len() > 8 {
        return Err(format!("{f}: {} threads; the race engine runs at most 8", input.threads.len()));
    }
    let (setup, map) = match backend {
        RaceBackend::Nvme612 => race_setup(&input.header),
        RaceBackend::LibV2 => crate::kunit::export_lib::race_setup(&input.file, &input.header, &crate::kunit::export::Target::uml()),
    }
    .map_err(|e| format!("{f}: setup: {e}"))?;
    let harness =
        |p: u32| -> Result<usize, String> { map.get(p as usize).copied().flatten().ok_or_else(|| format!("{f}: path {p} is not added by the setup")) };
    let mut spec = String::new();
    for (name, ops) in &input.threads {
        thread_spec(input, backend, name, ops, &harness, &mut spec)?;
    }
    worker_spec(input, backend, &mut spec)?;
    let (hooked, approximations) = hook_steps(input, backend, &harness)?;
    let case = crate::kunit::export::c_ident("mpv_race_", &format!("{}_{}_{}", input.revision, input.scenario, input.property));
    let source = case_source(input, backend, &case, prop, &spec, &setup, &hooked);
    Ok(RaceSuite { source, case, hooked, approximations, backend })
}

/// One thread's row of the `mpv_race_thread_spec` table: its name and the
/// engine's encoding of each of its operations.
fn thread_spec(
    input: &RaceInput,
    backend: RaceBackend,
    name: &str,
    ops: &[Op],
    harness: &dyn Fn(u32) -> Result<usize, String>,
    spec: &mut String,
) -> Result<(), String> {
    let f = &input.file;
    if ops.len() > 8 {
        return Err(format!("{f}: thread {name} has {} operations; at most 8", ops.len()));
    }
    let mut cells = Vec::new();
    for op in ops {
        cells.push(match op {
            Op::SubmitBio { node } | Op::FindPath { node } | Op::ChrIoctl { node, .. } if *node != 0 => {
                return Err(format!("{f}: thread {name} selects on node {node}; races run under UML, node 0 only"))
            }
            Op::SubmitBio { .. } => "{MPV_RACE_SUBMIT_BIO, 0}".to_string(),
            Op::FindPath { .. } => "{MPV_RACE_FIND_PATH, 0}".to_string(),
            Op::RemovePath { path, .. } if backend == RaceBackend::Nvme612 => format!("{{MPV_RACE_REMOVE_PATH, {}}}", harness(*path)?),
            Op::SetCtrlState { ctrl, state } if backend == RaceBackend::Nvme612 => {
                if *ctrl as usize >= input.header.nr_ctrls {
                    return Err(format!("{f}: thread {name}: set_ctrl_state of controller {ctrl}; the header has {}", input.header.nr_ctrls));
                }
                format!("{{MPV_RACE_SET_CTRL_STATE, {ctrl}, {}}}", state.kernel_name())
            }
            Op::DeleteDevice { path } if backend == RaceBackend::LibV2 => format!("{{MPV_RACE_DELETE_DEVICE, {}}}", harness(*path)?),
            Op::RemovePath { path, .. } if backend == RaceBackend::LibV2 => format!("{{MPV_RACE_REMOVE_PATH, {}}}", harness(*path)?),
            Op::Revalidate { path } if backend == RaceBackend::LibV2 => format!("{{MPV_RACE_REVALIDATE, {}}}", harness(*path)?),
            Op::ChrIoctl { kind, .. } if backend == RaceBackend::LibV2 => {
                format!("{{MPV_RACE_CHR_IOCTL, 0, {}}}", u8::from(*kind == mpath_reference::driver::IoctlKind::Ctrl))
            }
            other => {
                return Err(format!(
                    "{f}: thread {name}: operation {} is not driven by the race engine on {} yet (nvme-6.12: submit_bio, find_path, remove_path, set_ctrl_state; the series: submit_bio, find_path, delete_device, remove_path, chr_ioctl, revalidate)",
                    serde_json::to_string(other).unwrap_or_default(),
                    backend.name()
                ))
            }
        });
    }
    let _ = writeln!(spec, "\t{{ {}, {}, {{ {} }} }},", c_str(name), ops.len(), cells.join(", "));
    Ok(())
}

/// The work-queue worker (thread index threads.len()): driven on 6.12
/// when all it does is take the requeue list (nvme_requeue_work run by a
/// real kworker, parked at the restatement's points).
fn worker_spec(input: &RaceInput, backend: RaceBackend, spec: &mut String) -> Result<(), String> {
    let f = &input.file;
    let worker = input.threads.len();
    if let Some((i, st)) = input.steps.iter().enumerate().find(|(_, st)| st.thread > worker) {
        return Err(format!("{f}: step {i}: thread {} does not exist", st.thread));
    }
    if let Some((i, st)) = input.steps.iter().enumerate().find(|(_, st)| st.thread == worker) {
        if backend != RaceBackend::Nvme612 {
            return Err(format!("{f}: step {i}: the work-queue worker ({}); works are driven on nvme-6.12 only", st.function));
        }
        if let Some((j, st)) = input.steps.iter().enumerate().find(|(_, st)| st.thread == worker && st.function != "mpath_requeue_work") {
            return Err(format!(
                "{f}: step {j}: the work-queue worker runs {} `{}`; only head->requeue_work taking the list is driven (the race's bios are not real bios, so the worker's resubmission is not)",
                st.function, st.primitive
            ));
        }
        if input.threads.len() + 1 > 8 {
            return Err(format!("{f}: {} threads and the worker; the race engine runs at most 8", input.threads.len()));
        }
        let _ = writeln!(spec, "\t{{ \"worker\", 0, {{ }}, true }},");
    }
    Ok(())
}

/// The schedule's steps placed on the backend's points: the hooked steps
/// in the model's order, and the folded steps that run ahead of another
/// thread's step (approximations, said in the run).
fn hook_steps(input: &RaceInput, backend: RaceBackend, harness: &dyn Fn(u32) -> Result<usize, String>) -> Result<(Vec<HookedStep>, Vec<String>), String> {
    let f = &input.file;
    let worker = input.threads.len();
    let mut hooked = Vec::new();
    let mut approximations = Vec::new();
    let name_of = |t: usize| if t == worker { "worker" } else { input.threads[t].0.as_str() };
    // Per thread: index (in input.steps) of its last step that has a point.
    let mut last_point: Vec<Option<usize>> = vec![None; input.threads.len() + 1];
    for (i, st) in input.steps.iter().enumerate() {
        match place(backend, &st.function, &st.step) {
            None => {
                return Err(format!(
                    "{f}: step {i}: {} `{}` has no schedule point on {} (conformance/src/kunit/race/points.rs)",
                    st.function,
                    st.primitive,
                    backend.name()
                ));
            }
            Some(Place::Point(p, carries)) => {
                let path = match (carries, st.path) {
                    (true, Some(Some(id))) => harness(id)? as i64,
                    (true, Some(None)) => -1,
                    _ => -3,
                };
                hooked.push(HookedStep { model_index: i, thread: st.thread, point: p.to_string(), path });
                last_point[st.thread] = Some(i);
            }
            Some(Place::Local(_)) => {}
            Some(Place::Folded(why)) => {
                let from = last_point[st.thread].map(|j| j + 1).unwrap_or(0);
                let between: Vec<usize> = (from..i).filter(|&j| input.steps[j].thread != st.thread).collect();
                if !between.is_empty() {
                    approximations.push(format!(
                        "model step {i} ({}: {} `{}`) runs in the kernel before model step(s) {:?} of other threads ({why})",
                        name_of(st.thread),
                        st.function,
                        st.primitive,
                        between
                    ));
                }
            }
        }
    }
    Ok((hooked, approximations))
}

/// The C of one case: the thread and step tables, then the case function
/// (world, setup, the run).
fn case_source(input: &RaceInput, backend: RaceBackend, case: &str, prop: &str, spec: &str, setup: &str, hooked: &[HookedStep]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "/* {}: revision {}, scenario {}, property {} */", input.file.replace("*/", "* /"), input.revision, input.scenario, input.property);
    let _ = writeln!(s, "/* model: {} */", input.violation.replace("*/", "* /"));
    let _ = writeln!(s, "static const struct mpv_race_thread_spec {case}_threads[] = {{\n{spec}}};\n");
    let _ = writeln!(s, "static const struct mpv_race_step {case}_steps[] = {{");
    for h in hooked {
        let path = match h.path {
            -1 => "MPV_NONE".to_string(),
            -3 => "MPV_RACE_ANY".to_string(),
            p => p.to_string(),
        };
        let _ = writeln!(s, "\t{{ {}, {}, {}, {path} }},", h.model_index, h.thread, c_str(&h.point));
    }
    s.push_str("};\n\n");
    let _ = writeln!(s, "static void {case}(struct kunit *test)\n{{");
    match backend {
        RaceBackend::Nvme612 => {
            let _ = writeln!(s, "\tstruct mpv_world *w;\n\n\tMPV_LOG(test, \"mpv-race-case: {case}\");");
            let _ = writeln!(s, "\tw = mpv_world_new(test, {});", c_str(&input.file));
            s.push_str(setup);
            s.push_str("\tmpv_race_prepare(w);\n");
        }
        RaceBackend::LibV2 => {
            // The prelude's world declaration comes first; the case line
            // still opens the case's diagnostics.
            s.push_str(setup);
            let _ = writeln!(s, "\tMPV_LOG(test, \"mpv-race-case: {case}\");");
            s.push_str("\tmpvl_race_prepare(w);\n");
        }
    }
    let _ = writeln!(
        s,
        "\tMPV_LOG(test, \"mpv-race-schedule: %s revision %s scenario %s property %s: %d hooked steps\", {}, {}, {}, {}, {});",
        c_str(&input.file),
        c_str(&input.revision),
        c_str(&input.scenario),
        c_str(&input.property),
        hooked.len()
    );
    let _ = writeln!(s, "\tmpv_race_run(test, w, {prop}, {case}_threads, ARRAY_SIZE({case}_threads),\n\t\t     {case}_steps, ARRAY_SIZE({case}_steps));\n}}\n");
    s
}

/// One KUnit suite holding a case per schedule (cases keep the schedules'
/// order; a name used twice gets a suffix).
pub fn assemble(mut cases: Vec<RaceSuite>, defines: &str) -> (String, Vec<RaceSuite>) {
    let backend = cases.first().map(|c| c.backend).unwrap_or(RaceBackend::Nvme612);
    let mut used = std::collections::BTreeSet::new();
    for c in cases.iter_mut() {
        let base = c.case.clone();
        let mut k = 1;
        while !used.insert(c.case.clone()) {
            k += 1;
            c.case = format!("{base}_{k}");
            c.source = c.source.replace(&base, &c.case);
        }
    }
    let mut s = String::new();
    s.push_str("// SPDX-License-Identifier: GPL-2.0\n");
    s.push_str("/*\n * Generated by `mpath-verify kunit race`. Do not edit.\n * One case per model counterexample schedule, replayed as a forced\n * interleaving of 6.12's own multipath C (mpv_race.h).\n */\n\n");
    match backend {
        RaceBackend::Nvme612 => {
            s.push_str(&nvme612_harness_embedded());
            s.push('\n');
            s.push_str(defines);
        }
        RaceBackend::LibV2 => {
            s.push_str("/* ---- the libmultipath suite's prelude (v2 API) ---- */\n");
            let _ = writeln!(
                s,
                "/* the reference's DEFAULT_CAPACITY: head and path disks start with it */\n#define MPVL_CAPACITY {}ULL\n",
                mpath_reference::ops::DEFAULT_CAPACITY
            );
            s.push_str(&crate::kunit::export_lib::prelude(crate::series::Api::V2));
        }
    }
    s.push_str("\n/* ---- mpv_race_core.h (race engine, embedded) ---- */\n");
    s.push_str(RACE_ENGINE);
    match backend {
        RaceBackend::Nvme612 => {
            s.push_str("\n/* ---- nvme-6.12/mpv_race.h (its nvme-6.12 backend, embedded) ---- */\n");
            s.push_str(RACE_NVME);
        }
        RaceBackend::LibV2 => {
            s.push_str("\n/* ---- race/mpvl_race.h (its libmultipath backend, embedded) ---- */\n");
            s.push_str(RACE_LIB);
        }
    }
    s.push_str("\n/* ---- generated from the schedules ---- */\n\n");
    for c in &cases {
        s.push_str(&c.source);
        s.push('\n');
    }
    let _ = writeln!(s, "static struct kunit_case {RACE_SUITE}_cases[] = {{");
    for c in &cases {
        let _ = writeln!(s, "\tKUNIT_CASE({}),", c.case);
    }
    s.push_str("\t{}\n};\n\n");
    let _ = writeln!(s, "static struct kunit_suite {RACE_SUITE}_suite = {{\n\t.name = {},\n\t.test_cases = {RACE_SUITE}_cases,\n}};\n", c_str(RACE_SUITE));
    let _ = writeln!(s, "kunit_test_suites(&{RACE_SUITE}_suite);");
    (s, cases)
}
