#!/usr/bin/env bash
# Script tests of `recrypt profile ...` and `recrypt contact ...`: profiles, devices, escrow
# and recovery, contacts. Usage: cli_profile_test.sh PATH/TO/recrypt
set -u
RECRYPT=$1
. "$(dirname "$0")/lib.sh"
export RECRYPT_FAST_KDF=1   # Argon2id at its minimum limits: the tests are about behaviour

A="--home $WORK/alice"
B="--home $WORK/bob"
R="--home $WORK/restored"
with $'correct horse battery\n' "create" 0 "" -- $A profile create --name alice@example.com --device laptop --passphrase
UDF=$(cat "$WORK/out")
echo "$UDF" | grep -Eq '^M[A-Z2-7]{3}(-[A-Z2-7]{4})+$' && ok || bad "profile UDF: $UDF"
run "create twice" 2 "exists" -- $A profile create --name alice@example.com
with $'short\n' "short passphrase" 2 "at least 8" -- $B profile create --name bob@example.com --passphrase
run "show" 0 "" -- $A profile show
grep -q "^profile $UDF" "$WORK/out" && grep -q "^account alice@example.com" "$WORK/out" && grep -q "  laptop$" "$WORK/out" && ok || bad "show: $(cat "$WORK/out")"
[ "$(stat -c %a "$WORK/alice")" = 700 ] && [ "$(stat -c %a "$WORK/alice/profile/master.json")" = 600 ] && ok || bad "store permissions"
grep -q "argon2id13" "$WORK/alice/profile/master.json" && ok || bad "master keys not sealed with the passphrase"

# devices
with $'not the passphrase\n' "device add (wrong passphrase)" 2 "wrong passphrase" -- $A profile device add phone -o "$WORK/phone.device.json"
with $'correct horse battery\n' "device add" 0 "" -- $A profile device add phone -o "$WORK/phone.device.json"
[ "$(stat -c %a "$WORK/phone.device.json")" = 600 ] && ok || bad "device package is not 0600"
run "device list" 0 "" -- $A profile device list
[ "$(wc -l <"$WORK/out")" = 2 ] && grep -q "  phone$" "$WORK/out" && ok || bad "device list: $(cat "$WORK/out")"
with $'correct horse battery\n' "device remove" 0 "" -- $A profile device remove phone
run "device list after remove" 0 "" -- $A profile device list
[ "$(wc -l <"$WORK/out")" = 1 ] && ok || bad "device list after remove: $(cat "$WORK/out")"
with $'correct horse battery\n' "remove the last device" 2 "last device" -- $A profile device remove laptop

# export and contacts
run "export" 0 "" -- $A profile export -o "$WORK/alice.profile.json"
run "bob creates" 0 "" -- $B profile create --name bob@example.com
run "contact add" 0 "" -- $B contact add "$WORK/alice.profile.json" --expect "$UDF"
run "contact add, wrong fingerprint" 2 "not the expected" -- $B contact add "$WORK/alice.profile.json" --expect MAAA-AAAA-AAAA-AAAA-AAAA
# a changed signature: the profile no longer verifies
sed -E '0,/"signature": "./s//"signature": "Z/' "$WORK/alice.profile.json" >"$WORK/forged.json"
cmp -s "$WORK/forged.json" "$WORK/alice.profile.json" && bad "the forgery changed nothing" || ok
run "contact add, forged profile" 2 "does not verify" -- $B contact add "$WORK/forged.json"
run "contact add, garbage" 2 "" -- $B contact add "$WORK/out"
run "contact by fingerprint" 0 "" -- $B contact add MBBB-CCCC-DDDD-EEEE-FFFF-GGGG
run "contact list" 0 "" -- $B contact list
grep -q "^$UDF  profile$" "$WORK/out" && grep -q "fingerprint only" "$WORK/out" && ok || bad "contact list: $(cat "$WORK/out")"

# escrow and recovery
with $'correct horse battery\n' "escrow 3 of 5" 0 "" -- $A profile escrow --shares 5 --threshold 3 -o "$WORK/record.json"
mapfile -t S <"$WORK/out"
[ "${#S[@]}" = 5 ] && ok || bad "five shares: ${#S[@]}"
run "recover with 3" 0 "" -- $R profile recover "${S[4]}" "${S[0]}" "${S[2]}" --record "$WORK/record.json"
[ "$(cat "$WORK/out")" = "$UDF" ] && ok || bad "recovered the wrong profile: $(cat "$WORK/out")"
run "recover with 2" 2 "needs 3 shares" -- $R profile recover "${S[1]}" "${S[3]}" --record "$WORK/record.json"
run "escrow 2 of 3 (bob)" 0 "" -- $B profile escrow --shares 3 --threshold 2 -o "$WORK/bob-record.json"
mapfile -t T <"$WORK/out"
run "recover with bob's shares" 2 "not for this recovery record" -- $R profile recover "${T[0]}" "${T[1]}" "${T[2]}" --record "$WORK/record.json"
sed 's/"Threshold": 3/"Threshold": 2/' "$WORK/record.json" >"$WORK/tampered.json"
run "tampered threshold" 2 "" -- $R profile recover "${S[0]}" "${S[1]}" --record "$WORK/tampered.json"
run "record for another profile" 2 "this store holds" -- $B profile recover "${S[0]}" "${S[1]}" "${S[2]}" --record "$WORK/record.json"

finish
