# Shared by the tool's script tests (sourced): a work directory, counters, and `run`.
# The sourcing script sets RECRYPT (the binary) first.
WORK=$(mktemp -d)
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

# run NAME EXPECTED_EXIT [STDERR_SUBSTRING] -- ARGS...: checks the exit code (stdin empty, or
# the text in $RUN_INPUT); a failure must print exactly one line on stderr, starting
# "recrypt: " and containing the substring. stdout goes to $WORK/out, stderr to $WORK/err.
run() {
    local name=$1 code=$2 want=$3
    shift 4
    printf '%s' "${RUN_INPUT:-}" | "$RECRYPT" "$@" >"$WORK/out" 2>"$WORK/err"
    local rc=${PIPESTATUS[1]}
    local err
    err=$(cat "$WORK/err")
    if [ "$rc" != "$code" ]; then bad "$name: exit $rc, want $code; stderr: $err"; return; fi
    if [ "$code" != 0 ]; then
        [ "$(wc -l <"$WORK/err")" = 1 ] || { bad "$name: stderr is not one line: $err"; return; }
        case "$err" in recrypt:\ *"$want"*) ;; *) bad "$name: stderr '$err' lacks '$want'"; return ;; esac
    fi
    ok
}

# with INPUT run ...: the same, with INPUT on standard input.
with() {
    local input=$1
    shift
    RUN_INPUT=$input run "$@"
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}
