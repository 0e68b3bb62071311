#!/usr/bin/env bash
# A group's life through the tool against a real recryptd on 127.0.0.1:0: Alice creates a group;
# Bob, not a member, encrypts to it; Mallet cannot read until Alice adds him, and not after she
# revokes him; the audit log verifies. Usage: cli_group_test.sh PATH/TO/recrypt PATH/TO/recryptd
set -u
RECRYPT=$1
RECRYPTD=$2
. "$(dirname "$0")/lib.sh"

start_recryptd "$RECRYPTD"

A="--home $WORK/alice"
B="--home $WORK/bob"
M="--home $WORK/mallet"
run "alice key" 0 "" -- $A key generate --name alice
run "bob key" 0 "" -- $B key generate --name bob
run "mallet key" 0 "" -- $M key generate --name mallet
run "mallet exports" 0 "" -- $M key export mallet -o "$WORK/mallet.pub.json"
run "alice imports mallet" 0 "" -- $A key import "$WORK/mallet.pub.json"
C="--home $WORK/carol"
run "carol key" 0 "" -- $C key generate --name carol
run "carol exports" 0 "" -- $C key export carol -o "$WORK/carol.pub.json"
run "alice imports carol" 0 "" -- $A key import "$WORK/carol.pub.json"

run "no service" 2 "RECRYPT_SERVICE" -- $A group create friends
run "group create" 0 "" -- $A group create friends --service "$URL"
GID=$(cat "$WORK/out")
echo "$GID" | grep -Eq '^M[A-Z2-7]{3}(-[A-Z2-7]{4})+$' && ok || bad "group create prints the GroupID: $GID"
run "group create twice" 2 "exists" -- $A group create friends --service "$URL"
run "group show" 0 "" -- $A group show friends
grep -q "\"GroupID\": \"$GID\"" "$WORK/out" && ok || bad "group show: $(cat "$WORK/out")"

printf 'the plan for Saturday\n' >"$WORK/plan.txt"
run "bob encrypts (not a member)" 0 "" -- $B encrypt "$WORK/plan.txt" --group "$GID" --service "$URL" -o "$WORK/plan.dare"
grep -q "Saturday" "$WORK/plan.dare" && bad "ciphertext holds the plaintext" || ok
run "unknown group" 2 "no such group" -- $B encrypt "$WORK/plan.txt" --group MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA --service "$URL" -o "$WORK/x.dare"
run "mallet is not a member" 2 "" -- $M decrypt "$WORK/plan.dare" --service "$URL"
run "alice decrypts" 0 "" -- $A decrypt "$WORK/plan.dare" --service "$URL"
[ "$(cat "$WORK/out")" = "the plan for Saturday" ] && ok || bad "alice reads: $(cat "$WORK/out")"
run "member add" 0 "" -- $A member add friends mallet
run "mallet reads a file sent before he joined" 0 "" -- $M decrypt "$WORK/plan.dare" --service "$URL" -o "$WORK/mallet.txt"
cmp -s "$WORK/mallet.txt" "$WORK/plan.txt" && ok || bad "mallet's copy differs"
run "member list" 0 "" -- $A member list friends
grep -q "mallet  RECRYPT  ACTIVE" "$WORK/out" && ok || bad "member list: $(cat "$WORK/out")"
run "suspend" 0 "" -- $A member suspend friends mallet
run "suspended mallet" 2 "suspended" -- $M decrypt "$WORK/plan.dare" --service "$URL"
run "reinstate" 0 "" -- $A member reinstate friends mallet
run "reinstated mallet" 0 "" -- $M decrypt "$WORK/plan.dare" --service "$URL"
run "revoke" 0 "" -- $A member revoke friends mallet
run "revoked mallet" 2 "revoked" -- $M decrypt "$WORK/plan.dare" --service "$URL"
run "revocation is final" 2 "revoked" -- $A member reinstate friends mallet
run "mallet cannot administer" 2 "no group" -- $M member add friends alice
# rotation after the revocation: new files are beyond Mallet even with the service's help;
# continuing members read old and new
run "carol joins" 0 "" -- $A member add friends carol
run "rotate" 0 "" -- $A group rotate friends
NEWKEY=$(cat "$WORK/out")
run "group show has the new key" 0 "" -- $A group show friends
grep -q "\"EncryptionKey\": \"$NEWKEY\"" "$WORK/out" && ok || bad "group show after rotate: $(cat "$WORK/out")"
printf 'after the rotation\n' >"$WORK/new.txt"
run "bob encrypts to the new key" 0 "" -- $B encrypt "$WORK/new.txt" --group "$GID" --service "$URL" -o "$WORK/new.dare"
run "mallet cannot read the new file" 2 "" -- $M decrypt "$WORK/new.dare" --service "$URL"
run "carol reads the new file" 0 "" -- $C decrypt "$WORK/new.dare" --service "$URL"
[ "$(cat "$WORK/out")" = "after the rotation" ] && ok || bad "carol reads: $(cat "$WORK/out")"
run "carol reads the old file" 0 "" -- $C decrypt "$WORK/plan.dare" --service "$URL"
run "alice reads the new file" 0 "" -- $A decrypt "$WORK/new.dare" --service "$URL"
run "alice reads the old file" 0 "" -- $A decrypt "$WORK/plan.dare" --service "$URL"
# a file for another group: carol is not in "board"
run "second group" 0 "" -- $A group create board --service "$URL"
BOARD=$(cat "$WORK/out")
run "encrypt for the board" 0 "" -- $B encrypt "$WORK/new.txt" --group "$BOARD" --service "$URL" -o "$WORK/board.dare"
run "carol and the board's file" 2 "" -- $C decrypt "$WORK/board.dare" --service "$URL"
printf 'garbage' >"$WORK/bad.dare"
run "corrupted file" 2 "bad.dare" -- $A decrypt "$WORK/bad.dare" --service "$URL"
run "service down" 2 "" -- $A decrypt "$WORK/plan.dare" --service http://127.0.0.1:1

stop_recryptd
run "audit verify" 0 "" -- audit verify "$WORK/service/audit.dare"
grep -q "records verified" "$WORK/out" && ok || bad "audit verify: $(cat "$WORK/out")"
run "audit list" 0 "" -- audit list "$WORK/service/audit.dare"
grep -q '"Transaction":"UpdateMember"' "$WORK/out" && ok || bad "audit list lacks UpdateMember"

finish
