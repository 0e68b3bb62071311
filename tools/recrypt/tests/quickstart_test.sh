#!/usr/bin/env bash
# Runs docs/quickstart.md as written: every line of its ```sh blocks after the first (which
# starts the service: here a recryptd on a free port with its own state directory). A line
# marked "# fails" must fail with one line on stderr; "# prints: X" must print X; the rest must
# succeed. Usage: quickstart_test.sh QUICKSTART.md PATH/TO/recrypt PATH/TO/recryptd
set -u
doc=$(realpath "$1")
RECRYPT=$(realpath "$2")
RECRYPTD=$(realpath "$3")
. "$(dirname "$0")/lib.sh"

export XDG_STATE_HOME="$WORK/state"
mkdir -p "$XDG_STATE_HOME"
"$RECRYPTD" --listen 127.0.0.1:0 --data-dir "$XDG_STATE_HOME/recryptd" >"$WORK/recryptd.out" 2>"$WORK/recryptd.log" &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/recryptd.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^recryptd: listening on //p' "$WORK/recryptd.out")
[ -n "$URL" ] || { bad "recryptd did not start"; finish; exit 1; }
sleep 0.5

recrypt() { "$RECRYPT" "$@"; }
cd "$WORK" || exit 1   # the commands write files (plan.txt, --home alice): keep them out of the tree
# the lines of the sh blocks, without the first block (./scripts/run)
mapfile -t lines < <(awk '/^```sh/{block++; inside=1; next} /^```/{inside=0; next} inside && block > 1' "$doc")
[ "${#lines[@]}" -gt 15 ] && ok || bad "quickstart has ${#lines[@]} command lines"
for line in "${lines[@]}"; do
    case "$line" in
        alias\ recrypt=*) continue ;;  # the function above stands for it
        export\ RECRYPT_SERVICE=*) export RECRYPT_SERVICE=$URL; continue ;;
    esac
    cmd=${line%%#*}
    comment=""
    [ "$cmd" != "$line" ] && comment=${line#*#}
    eval "$cmd" >"$WORK/out" 2>"$WORK/err"   # in this shell: assignments (GID=...) stay
    rc=$?
    out=$(cat "$WORK/out")
    case "$comment" in
        *fails*)
            if [ $rc = 0 ]; then bad "should fail: $line"
            elif [ "$(wc -l <"$WORK/err")" != 1 ]; then bad "not one line on stderr: $line: $(cat "$WORK/err")"
            else ok; fi ;;
        *prints:*)
            want=${comment#*prints: }
            if [ $rc != 0 ] || [ "$out" != "$want" ]; then bad "$line: exit $rc, printed '$out', want '$want'; $(cat "$WORK/err")"; else ok; fi ;;
        *)
            if [ $rc != 0 ]; then bad "$line: exit $rc: $(cat "$WORK/err")"; else ok; fi ;;
    esac
done
finish
