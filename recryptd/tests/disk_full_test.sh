#!/usr/bin/env bash
# recryptd on a full disk (issue #9): the data directory on a 6 MiB tmpfs, filled up by another
# file. Requests that would write fail cleanly (503, one clear line from the tool), nothing is
# written, /readyz answers 503 "disk full", the daemon stays up; once space is freed /readyz is
# 200 again, writes work, and after a restart every acknowledged write is there and the audit log
# verifies. Needs root for the mount, else a user namespace (unshare -rm).
# Usage: disk_full_test.sh PATH/TO/recrypt PATH/TO/recryptd
set -u
RECRYPT=$(realpath "$1")
RECRYPTD=$(realpath "$2")
if [ "$(id -u)" != 0 ] && [ -z "${DISK_FULL_NS:-}" ]; then
    DISK_FULL_NS=1 exec unshare --user --map-root-user --mount "$0" "$@"
fi
. "$(dirname "$0")/../../tools/recrypt/tests/lib.sh"
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    umount "$WORK/disk" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/disk"
mount -t tmpfs -o size=6m,mode=0700 tmpfs "$WORK/disk" || { bad "cannot mount a tmpfs (root or user namespaces needed)"; finish; exit 1; }
ok
DATA="$WORK/disk/recryptd"
export RECRYPTD_DATA="$DATA"
start() { start_recryptd "$RECRYPTD" --set store.min_free_bytes=1048576; }
readyz() {  # the /readyz status line and body
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
    cat <&3
    exec 3<&-
}
start
A="--home $WORK/alice"
run "alice key" 0 "" -- $A key generate --name alice
for i in 1 2 3 4; do run "key m$i" 0 "" -- $A key generate --name "m$i"; done
run "group" 0 "" -- $A group create friends --service "$URL" --key alice
run "m1 joins" 0 "" -- $A member add friends m1 --key alice
run "m2 joins" 0 "" -- $A member add friends m2 --key alice
printf 'before the disk filled\n' >"$WORK/note.txt"
run "encrypt" 0 "" -- $A encrypt "$WORK/note.txt" --group friends -o "$WORK/note.dare"

# fill the disk: another program's file takes all the space
dd if=/dev/zero of="$WORK/disk/filler" bs=64k status=none 2>/dev/null
free=$(df -B1 --output=avail "$WORK/disk" | tail -1 | tr -d ' ')
[ "$free" -lt 1048576 ] && ok || bad "the disk is not full: $free bytes free"
sleep 0.1  # the reserve is rechecked every 50 ms
sizes() { stat -c %s "$DATA/groups.dare"; }  # the audit log keeps recording refusals while its last page has room
before=$(sizes)
readyz | grep -q '503' && readyz | grep -q 'disk full' && ok || bad "readyz on a full disk: $(readyz)"
run "member add on a full disk" 2 "disk is full" -- $A member add friends m3 --key alice
run "suspend on a full disk" 2 "disk is full" -- $A member suspend friends m2 --key alice
run "decrypt on a full disk" 2 "disk is full" -- --home "$WORK/alice" decrypt "$WORK/note.dare" --key m1
[ "$(sizes)" = "$before" ] && ok || bad "the store changed on a full disk: $before -> $(sizes)"
kill -0 "$PID" && ok || bad "recryptd died on a full disk"

# space comes back
rm -f "$WORK/disk/filler"
sleep 0.1
readyz | grep -q ' 200 ' && ok || bad "readyz after space came back: $(readyz)"
run "m3 joins" 0 "" -- $A member add friends m3 --key alice
run "m1 reads" 0 "" -- $A decrypt "$WORK/note.dare" --key m1
[ "$(cat "$WORK/out")" = "before the disk filled" ] && ok || bad "m1 reads: $(cat "$WORK/out")"

# after a restart (on the same port: the group record names the service): every acknowledged
# write, nothing else
stop_recryptd
start
run "member list after restart" 0 "" -- $A member list friends --key alice
for m in m1 m2 m3; do grep -q "  $m  RECRYPT  ACTIVE" "$WORK/out" && ok || bad "$m missing or changed: $(cat "$WORK/out")"; done
[ "$(wc -l <"$WORK/out")" = 4 ] && ok || bad "member list: $(cat "$WORK/out")"
stop_recryptd
run "audit verify" 0 "" -- audit verify "$DATA/audit.dare"
finish
