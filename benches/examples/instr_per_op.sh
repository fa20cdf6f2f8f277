#!/usr/bin/env bash
# Instructions per operation of the reference, per workload, with callgrind:
# runs examples/profile with N and 2N operations and prints
# (Ir(2N) - Ir(N)) / N, which cancels set-up and process start-up.
# Repeatable to the instruction on a loaded machine (wall time is not).
#
#   cargo build --release -p mpath-benches --example profile
#   benches/examples/instr_per_op.sh [-b BINARY] [-n N] WORKLOAD...   (default: every workload)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=target/release/examples/profile
N=2000
while getopts "b:n:" o; do
    case $o in
        b) BIN=$OPTARG ;;
        n) N=$OPTARG ;;
        *) echo "usage: $0 [-b BINARY] [-n N] WORKLOAD..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ -x "$BIN" ] || { echo "$0: $BIN: not built (cargo build --release -p mpath-benches --example profile)" >&2; exit 2; }
if [ $# -eq 0 ]; then
    set -- $(python3 -c 'import json; print(" ".join(w["name"] for w in json.load(open("benches/workloads.json"))["workloads"]))')
fi
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" "$2" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
for w in "$@"; do
    a=$(ir "$w" "$N")
    b=$(ir "$w" $((2 * N)))
    [ -n "$a" ] && [ -n "$b" ] || { echo "$0: $w: callgrind gave no count" >&2; exit 1; }
    python3 -c "import sys; print(f'{sys.argv[1]}\t{(int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4]):.1f}')" "$w" "$a" "$b" "$N"
done
