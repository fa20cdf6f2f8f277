#!/usr/bin/env bash
# Regenerate the kernel-drivable traces with fixed seeds:
#   k-seed-N   `gen --kernel` (revision nvme-6.12, node 0): the nvme-6.12 KUnit backend
#   k-numa-seed-N `gen --kernel --nodes 2`: the nvme-6.12 backend on x86_64 with two NUMA nodes
#   lib-seed-N `gen --lib` (revision v2, node 0): the libmultipath KUnit backend
#   lib-drv-seed-N `gen --lib --driver-ops`: the same, through the driver side (gendisks, links, removal)
#   lib-v1-drv-seed-N `gen --lib --driver-ops --revision v1`: the same on the v1 API (a tree carrying v1)
# conformance/tests/corpus.rs checks the files equal what gen produces now.
set -euo pipefail
cd "$(dirname "$0")"
MPV=${MPV:-../../../target/release/mpath-verify}
for s in 1 2 3 4 5 6 7 8; do
    "$MPV" gen --kernel --seed "$s" --ops 120 --paths $(( (s * 5) % 14 + 1 )) -o "k-seed-$s.jsonl"
done
for s in 1 2 3 4; do
    "$MPV" gen --lib --seed "$s" --ops 100 --paths $(( s * 3 )) -o "lib-seed-$s.jsonl"
done
for s in $(seq 1 24); do
    "$MPV" gen --lib --driver-ops --seed "$s" --ops 80 --paths $(( s % 5 + 1 )) -o "lib-drv-seed-$s.jsonl"
done
for s in 1 2 3 4 5 6 7 8; do
    "$MPV" gen --kernel --nodes 2 --seed "$s" --ops 120 --paths $(( s % 6 + 2 )) -o "k-numa-seed-$s.jsonl"
done
for s in $(seq 1 12); do
    "$MPV" gen --lib --driver-ops --revision v1 --seed "$s" --ops 80 --paths $(( s % 5 + 1 )) -o "lib-v1-drv-seed-$s.jsonl"
done
