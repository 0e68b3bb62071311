#!/usr/bin/env bash
# systemd-analyze verify of deploy/systemd/recryptd.service, with ExecStart pointing at the
# built binary. Usage: systemd_unit_test.sh SYSTEMD_ANALYZE UNIT RECRYPTD
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s#/usr/sbin/recryptd#$3#" "$2" >"$work/recryptd.service"
out=$("$1" verify "$work/recryptd.service" 2>&1 || true)
# Warnings about the environment (no systemd running, documentation links) are not the unit's fault.
bad=$(printf '%s\n' "$out" | grep -vE 'Documentation|Failed to connect|System has not been booted|^$|ignoring|/etc/recryptd' || true)
if [ -n "$bad" ]; then printf 'systemd-analyze:\n%s\n' "$bad"; exit 1; fi
grep -q '^DynamicUser=yes' "$2" && grep -q '^ProtectSystem=strict' "$2" && grep -q '^NoNewPrivileges=yes' "$2" && grep -q '^StateDirectory=recryptd' "$2"
echo "systemd unit: ok"
