//! The KTAP side of the kernel suite: the `# mpv-bench:` diagnostic lines
//! the generated suite ([`crate::kunit`]) prints, parsed into
//! [`KernelResult`]s.

/// Prefix of the diagnostic lines.
pub const TAG: &str = "# mpv-bench: ";

/// One parsed `# mpv-bench:` line.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KernelResult {
    pub workload: String,
    /// Median ns per operation; `None` when skipped.
    pub ns_per_op: Option<f64>,
    pub iters: Option<u64>,
    /// Fastest batch, ns per operation.
    pub min_ns_per_op: Option<f64>,
    /// Why there is no number (e.g. `needs-numa`).
    pub skip: Option<String>,
}

/// Parse every `# mpv-bench:` line of a KTAP / raw console output. Lines
/// may carry any prefix (indentation, console timestamps). Returns an error
/// naming the line for a malformed bench line.
pub fn parse_ktap(text: &str) -> Result<Vec<KernelResult>, String> {
    let mut out = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let Some(pos) = line.find(TAG) else { continue };
        let rest = line[pos + TAG.len()..].trim();
        let mut parts = rest.split_whitespace();
        let Some(workload) = parts.next() else {
            return Err(format!("line {}: mpv-bench line without a workload", ln + 1));
        };
        let mut r = KernelResult { workload: workload.to_string(), ns_per_op: None, iters: None, min_ns_per_op: None, skip: None };
        for kv in parts {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(format!("line {}: expected key=value, got {kv:?}", ln + 1));
            };
            let bad = |e: &dyn std::fmt::Display| format!("line {}: bad {k}={v:?}: {e}", ln + 1);
            match k {
                "ns_per_op" => r.ns_per_op = Some(v.parse::<f64>().map_err(|e| bad(&e))?),
                "min" => r.min_ns_per_op = Some(v.parse::<f64>().map_err(|e| bad(&e))?),
                "iters" => r.iters = Some(v.parse::<u64>().map_err(|e| bad(&e))?),
                "skip" => r.skip = Some(v.to_string()),
                _ => {} // batches= (rounds= before 2026-12-02), nodes=, future keys
            }
        }
        if r.ns_per_op.is_none() && r.skip.is_none() {
            return Err(format!("line {}: {} has neither ns_per_op nor skip", ln + 1, r.workload));
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = "\
[    0.412000] KTAP version 1
    # Subtest: mpv_nvme612_bench
    1..1
        KTAP version 1
        # Subtest: mpvb_pathsel
        # mpv-bench: numa_hit.all_opt.p1.n1 ns_per_op=3.125 iters=1048576 rounds=7 min=3.010
        ok 1 numa_hit.all_opt.p1.n1
[    1.000100]         # mpv-bench: numa_rescan.all_opt.p128.n1 ns_per_op=812.500 iters=2048 rounds=7 min=800.000
        ok 2 numa_rescan.all_opt.p128.n1
        # mpv-bench: numa_hit.all_opt.p8.n2 skip=needs-numa nodes=2
        ok 3 numa_hit.all_opt.p8.n2 # SKIP needs NUMA: 2 nodes
    # mpvb_pathsel: pass:2 fail:0 skip:1 total:3
ok 1 mpv_nvme612_bench
";

    #[test]
    fn parses_measured_and_skipped_lines() {
        let r = parse_ktap(FIXTURE).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].workload, "numa_hit.all_opt.p1.n1");
        assert_eq!(r[0].ns_per_op, Some(3.125));
        assert_eq!(r[0].iters, Some(1_048_576));
        assert_eq!(r[0].min_ns_per_op, Some(3.01));
        assert_eq!(r[1].workload, "numa_rescan.all_opt.p128.n1");
        assert_eq!(r[1].ns_per_op, Some(812.5));
        assert_eq!(r[2].skip.as_deref(), Some("needs-numa"));
        assert_eq!(r[2].ns_per_op, None);
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(parse_ktap("# mpv-bench: x ns_per_op=abc").unwrap_err().contains("line 1"));
        assert!(parse_ktap("ok\n# mpv-bench: x iters=3").unwrap_err().contains("line 2"));
        assert!(parse_ktap("# mpv-bench: x garbage").is_err());
        assert!(parse_ktap("# mpv-bench: ").is_err());
        assert_eq!(parse_ktap("nothing here\n# mpv: trace:1 find_path").unwrap(), vec![]);
    }
}
