#!/usr/bin/env bash
# recrypt dare encode/decode against age on the same 1 GiB file in the same run; prints the
# ratios recorded in docs/benchmarks.md. Needs age (Debian package; installed here if missing).
# Usage: bench/run_dare_vs_age.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
command -v age >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq age >/dev/null; }
cmake --build "$build" --target dare_bench recrypt >/dev/null
work=$(mktemp -d /tmp/dare_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
file=${MESH_BENCH_FILE:-/tmp/mesh_bench_1g.bin}
[ -f "$file" ] || head -c 1073741824 /dev/urandom >"$file"
cat "$file" >/dev/null
export RECRYPT_HOME=$work/home RECRYPT_BIN=$PWD/$build/tools/recrypt/recrypt MESH_BENCH_FILE=$file MESH_BENCH_OUT=$work/out
export RECRYPT_TO=$("$RECRYPT_BIN" key generate --name bench)
age-keygen -o "$work/age.key" 2>/dev/null
export AGE_IDENTITY=$work/age.key AGE_RECIPIENT=$(age-keygen -y "$work/age.key")
"$RECRYPT_BIN" dare encode "$file" --to "$RECRYPT_TO" -o "$MESH_BENCH_OUT.dare"
age -r "$AGE_RECIPIENT" -o "$MESH_BENCH_OUT.age" "$file"
json=$work/result.json
"$build/bench/dare_bench" --benchmark_out="$json" --benchmark_out_format=json
python3 - "$json" <<'PY'
import json, sys
runs = {b["name"].split("/iterations")[0].split("/real_time")[0]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
def mbps(n): return runs[n]["bytes_per_second"] / 1e6
print()
for ours, theirs in [("File/recrypt-encode", "File/age-encrypt"), ("File/recrypt-decode", "File/age-decrypt")]:
    print(f"{ours:22s} {mbps(ours):7.0f} MB/s rss {runs[ours]['max_rss_MiB']:6.1f} MiB | "
          f"{theirs:18s} {mbps(theirs):7.0f} MB/s rss {runs[theirs]['max_rss_MiB']:6.1f} MiB | ratio {mbps(ours)/mbps(theirs):.2f}")
PY
