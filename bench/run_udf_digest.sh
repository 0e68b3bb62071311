#!/usr/bin/env bash
# Digest UDF throughput on 1 MiB (in memory) and a 1 GiB file, beside sha512sum on the same
# file in the same run; prints the ratios recorded in docs/benchmarks.md.
# Usage: bench/run_udf_digest.sh [BUILD_DIR]   (default build; needs python3 for the ratios)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target udf_bench >/dev/null
file=${MESH_BENCH_FILE:-/tmp/mesh_bench_1g.bin}
[ -f "$file" ] || head -c 1073741824 /dev/urandom >"$file"
cat "$file" >/dev/null  # warm the page cache: we measure hashing, not the disk
out=$(mktemp)
MESH_BENCH_FILE=$file "$build/bench/udf_bench" --benchmark_out="$out" --benchmark_out_format=json
python3 - "$out" <<'PY'
import json, sys
runs = {b["name"].split("/iterations")[0].split("/real_time")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
def mbps(name): return runs[name]["bytes_per_second"] / 1e6
base = mbps("File/sha512sum")
print(f"\nsha512sum on the 1 GiB file: {base:.0f} MB/s")
for n in ["File/udf-sha2", "File/udf-sha3", "Memory/sha2/1048576", "Memory/sha3/1048576"]:
    print(f"{n:24s} {mbps(n):8.0f} MB/s  = {mbps(n)/base:.2f} x sha512sum")
PY
rm -f "$out"
