#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS from a copy of its corpus; prints the executions.
# Usage: run_fuzzer.sh FUZZER CORPUS_DIR SECONDS
set -u
fuzzer=$1
corpus=$2
seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work/"
name=$(basename "$fuzzer")
artifacts="$PWD/$name-artifacts"
mkdir -p "$artifacts"
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$artifacts/" "$work" >"$work.log" 2>&1
rc=$?
grep -E '^Done|^#[0-9]+.*DONE' "$work.log" | tail -1
if [ $rc != 0 ]; then
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work.log" | head -10
    echo "$name: crashed; the input is in $artifacts (add it to the corpus once fixed)"
fi
rm -f "$work.log"
exit $rc
