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

# Stops a recryptd left running and removes the work directory when the script ends.
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
}

# start_recryptd RECRYPTD [ARGS...]: a real recryptd on 127.0.0.1:$PORT (0 the first time, so a
# restart keeps the port) with its data in ${RECRYPTD_DATA:-$WORK/service}; sets URL, PORT and
# PID and waits until /readyz answers 200. stop_recryptd stops it (SIGTERM).
start_recryptd() {
    local binary=$1
    shift
    "$binary" --listen "127.0.0.1:${PORT:-0}" --data-dir "${RECRYPTD_DATA:-$WORK/service}" "$@" \
        >"$WORK/recryptd.out" 2>"$WORK/recryptd.log" &
    PID=$!
    for _ in $(seq 100); do grep -q "listening on" "$WORK/recryptd.out" 2>/dev/null && break; sleep 0.1; done
    URL=$(sed -n 's/^recryptd: listening on //p' "$WORK/recryptd.out")
    [ -n "$URL" ] || { bad "recryptd did not start: $(cat "$WORK/recryptd.log")"; finish; exit 1; }
    PORT=${URL##*:}
    for _ in $(seq 100); do ready 2>/dev/null && break; sleep 0.1; done
    ok
}
ready() {  # GET /readyz with bash's /dev/tcp (no curl needed)
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
    local status
    status=$(head -1 <&3)
    exec 3<&-
    case "$status" in *" 200 "*) return 0 ;; *) return 1 ;; esac
}
stop_recryptd() {
    kill "$PID"; wait "$PID"; local rc=$?; PID=
    [ "$rc" = 0 ] && ok || bad "recryptd exit $rc after SIGTERM"
}
