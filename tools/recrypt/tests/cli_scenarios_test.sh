#!/usr/bin/env bash
# The seeds' scenarios through the tool, with profiles as identities, against a real recryptd on
# 127.0.0.1:0 (issue #8; seed 001 §4 and the user mistakes are in cli_group_test.sh):
#   2. seed 000 §4.7/§3.6: Bob reads on two devices through his personal group, nested as a
#      member of Alice's group; he removes his lost phone and it stops working.
#   3. seed 002 §3.5: a file for accounting AND executive opens only for members of both; one
#      for accounting OR executive for members of either.
#   5. threshold administration: 2 of 3 administrators needed to add a member.
# Also: decrypt finds the service from the file, info, group list, --json.
# Usage: cli_scenarios_test.sh PATH/TO/recrypt PATH/TO/recryptd
set -u
RECRYPT=$(realpath "$1")
RECRYPTD=$(realpath "$2")
. "$(dirname "$0")/lib.sh"
export RECRYPT_FAST_KDF=1
unset RECRYPT_SERVICE
start_recryptd "$RECRYPTD"
cd "$WORK" || exit 1

# json VALUE_PATH: a field of the JSON in $WORK/out (python3 is in Debian's base system)
json() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); [v:=v[k if not k.isdigit() else int(k)] for k in sys.argv[2].split(".")]; print(v)' "$WORK/out" "$1" 2>/dev/null; }

profile() {  # profile WHO ACCOUNT [DEVICE]: a profile in $WORK/WHO, exported to WHO.profile
    run "$1 profile" 0 "" -- --home "$WORK/$1" profile create --name "$2" --device "${3:-laptop}"
    run "$1 export" 0 "" -- --home "$WORK/$1" profile export -o "$WORK/$1.profile"
}
profile alice alice@example.com
profile bob bob@example.com laptop
profile carol carol@example.com
profile dave dave@example.com
profile erin erin@example.com
A="--home $WORK/alice"; B="--home $WORK/bob"; P="--home $WORK/bob-phone"; C="--home $WORK/carol"
D="--home $WORK/dave"; E="--home $WORK/erin"; S="--home $WORK/sender"

# ---- 2. two devices through a personal group ----------------------------------------------
run "bob publishes his personal group" 0 "" -- $B profile publish --service "$URL" --json
BOB=$(json GroupID)
run "publish twice" 2 "already" -- $B profile publish --service "$URL"
run "bob adds his phone" 0 "" -- $B profile device add phone -o "$WORK/phone.pkg"
run "the phone installs its package" 0 "" -- $P profile device install "$WORK/phone.pkg"
run "device list --json" 0 "" -- $B profile device list --json
[ "$(json 1.Description)" = "phone" ] && ok || bad "device list --json: $(cat "$WORK/out")"
run "install twice" 2 "already has a device" -- $P profile device install "$WORK/phone.pkg"
run "bob exports again (two devices)" 0 "" -- $B profile export -o "$WORK/bob.profile"
run "alice's group" 0 "" -- $A group create team --service "$URL"
TEAM=$(cat "$WORK/out")
run "alice adds bob by his profile" 0 "" -- $A member add team "$WORK/bob.profile" --json
[ "$(json MemberUDF)" = "$BOB" ] && ok || bad "bob's MemberUDF is his profile UDF: $(cat "$WORK/out")"
run "a tampered profile is refused" 2 "" -- $A member add team <(sed 's/"[A-Za-z0-9_-]\{40\}"/"AAAA"/' "$WORK/bob.profile")
printf 'team minutes\n' >minutes.txt
run "a sender with no account encrypts" 0 "" -- $S encrypt minutes.txt --group "$TEAM" --service "$URL" --json
[ "$(json Groups.0.Service)" = "$URL" ] && ok || bad "encrypt --json: $(cat "$WORK/out")"
run "info names the group and service" 0 "" -- $A info minutes.txt.dare
grep -q "your group team" "$WORK/out" && grep -q "$URL" "$WORK/out" && ok || bad "info: $(cat "$WORK/out")"
run "info --json" 0 "" -- $S info minutes.txt.dare --json
[ "$(json Recipients.0.Group.Service)" = "$URL" ] && ok || bad "info --json: $(cat "$WORK/out")"
run "bob's laptop reads (service from the file)" 0 "" -- $B decrypt minutes.txt.dare
[ "$(cat "$WORK/out")" = "team minutes" ] && ok || bad "laptop: $(cat "$WORK/out")"
run "bob's phone reads through his personal group" 0 "" -- $P decrypt minutes.txt.dare -o phone.txt --json
cmp -s phone.txt minutes.txt && ok || bad "phone's copy differs"
run "carol (no member) cannot" 2 "" -- $C decrypt minutes.txt.dare
run "bob cannot remove the device he is on" 2 "this device" -- $B profile device remove laptop
run "bob loses his phone and removes it" 0 "" -- $B profile device remove phone
run "the lost phone reads nothing more" 2 "revoked" -- $P decrypt minutes.txt.dare
run "the laptop still reads" 0 "" -- $B decrypt minutes.txt.dare

# ---- 3. accounting AND executive, accounting OR executive -------------------------------
run "accounting" 0 "" -- $A group create accounting --service "$URL"
ACC=$(cat "$WORK/out")
run "executive" 0 "" -- $A group create executive --service "$URL"
EXE=$(cat "$WORK/out")
run "carol: accounting" 0 "" -- $A member add accounting "$WORK/carol.profile"
run "alice takes dave as a contact" 0 "" -- $A contact add "$WORK/dave.profile"
DAVE=$(cat "$WORK/out")
run "contact list --json" 0 "" -- $A contact list --json
[ "$(json 0.ProfileHeld)" = "True" ] && ok || bad "contact list --json: $(cat "$WORK/out")"
run "dave: executive (by his contact UDF)" 0 "" -- $A member add executive "$DAVE"
run "erin: accounting" 0 "" -- $A member add accounting "$WORK/erin.profile"
run "erin: executive" 0 "" -- $A member add executive "$WORK/erin.profile"
printf 'salaries\n' >both.txt
run "encrypt for accounting AND executive" 0 "" -- $S encrypt both.txt --group "$ACC" --group "$EXE" --all --service "$URL"
run "info shows all of" 0 "" -- $S info both.txt.dare --json
[ "$(json Recipients.0.AllOf.1.GroupKey)" != "" ] && ok || bad "info AllOf: $(cat "$WORK/out")"
run "erin (both) reads" 0 "" -- $E decrypt both.txt.dare
[ "$(cat "$WORK/out")" = "salaries" ] && ok || bad "erin: $(cat "$WORK/out")"
run "carol (accounting only) cannot" 2 "" -- $C decrypt both.txt.dare
run "dave (executive only) cannot" 2 "" -- $D decrypt both.txt.dare
printf 'budget\n' >either.txt
run "encrypt for accounting OR executive" 0 "" -- $S encrypt either.txt --group "$ACC" --group "$EXE" --service "$URL"
run "carol reads" 0 "" -- $C decrypt either.txt.dare
run "dave reads" 0 "" -- $D decrypt either.txt.dare
run "erin reads" 0 "" -- $E decrypt either.txt.dare
run "bob (neither) cannot" 2 "" -- $B decrypt either.txt.dare
run "--all needs two groups" 1 "" -- $S encrypt either.txt --all --service "$URL"
run "--all with one group" 2 "two or more" -- $S encrypt either.txt --group "$ACC" --all --service "$URL" -o x.dare
run "a group named twice" 2 "twice" -- $S encrypt either.txt --group "$ACC" --group "$ACC" --service "$URL" -o x.dare

# ---- 5. two of three administrators to add a member -------------------------------------
run "alice: board, 2 of 3 with carol and dave" 0 "" -- $A group create board --service "$URL" --threshold 2 \
    --admin "$WORK/carol.profile" --admin "$WORK/dave.profile" --json
BOARD=$(json GroupID)
[ -f board.share-2.dare ] && [ -f board.share-3.dare ] && ok || bad "share files: $(ls)"
grep -q '"GroupKey"' "$WORK/alice/groups/board.json" && bad "alice kept the whole board key" || ok
run "carol takes up her share" 0 "" -- $C group import board.share-2.dare
run "dave cannot open carol's share" 2 "" -- $D group import board.share-2.dare
run "dave takes up his share" 0 "" -- $D group import board.share-3.dare
run "group list" 0 "" -- $D group list
grep -q "board  $BOARD  $URL  threshold 2 of 3" "$WORK/out" && ok || bad "group list: $(cat "$WORK/out")"
run "group list --json" 0 "" -- $A group list --json
[ "$(json 0.Name)" = "accounting" ] && ok || bad "group list --json: $(cat "$WORK/out")"
printf 'board papers\n' >board.txt
run "encrypt for the board" 0 "" -- $S encrypt board.txt --group "$BOARD" --service "$URL"
run "alice alone cannot add erin" 2 "2 of 3" -- $A member add board "$WORK/erin.profile"
run "a quorum of one is refused" 2 "2 of 3" -- $A member add board "$WORK/erin.profile" --quorum 1
run "a quorum without its contribution" 2 "administrator 2" -- $A member add board "$WORK/erin.profile" --quorum 1,2
run "carol contributes" 0 "" -- $C member contribute board "$WORK/erin.profile" --quorum 1,2 -o carol.part
run "dave's part for another quorum" 0 "" -- $D member contribute board "$WORK/erin.profile" --quorum 1,3 -o dave.part
run "a part for another quorum is refused" 2 "another quorum" -- $A member add board "$WORK/erin.profile" --quorum 1,2 --contribution dave.part
run "carol's part for someone else is refused" 2 "another member" -- $A member add board "$WORK/bob.profile" --quorum 1,2 --contribution carol.part
run "erin cannot read yet" 2 "" -- $E decrypt board.txt.dare
run "alice and carol add erin" 0 "" -- $A member add board "$WORK/erin.profile" --quorum 1,2 --contribution carol.part
run "erin reads" 0 "" -- $E decrypt board.txt.dare
[ "$(cat "$WORK/out")" = "board papers" ] && ok || bad "erin: $(cat "$WORK/out")"
run "carol and dave (no alice) add bob" 0 "" -- $D member contribute board "$WORK/bob.profile" --quorum 2,3 -o dave2.part
run "combined by carol" 0 "" -- $C member add board "$WORK/bob.profile" --quorum 2,3 --contribution dave2.part
run "bob reads on his laptop" 0 "" -- $B decrypt board.txt.dare
run "rotation needs the whole key" 2 "threshold" -- $A group rotate board
run "member list --json" 0 "" -- $A member list board --json
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["Members"]))' "$WORK/out")" = 5 ] && ok || bad "board members: $(cat "$WORK/out")"

stop_recryptd
run "audit verify" 0 "" -- audit verify "$WORK/service/audit.dare"
finish
