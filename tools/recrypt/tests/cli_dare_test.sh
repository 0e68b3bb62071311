#!/usr/bin/env bash
# Script-style tests of `recrypt key ...` and `recrypt dare ...`: several people simulated with
# separate key stores (--home / RECRYPT_HOME).
# Usage: cli_dare_test.sh PATH/TO/recrypt
set -u
RECRYPT=$1
. "$(dirname "$0")/lib.sh"
trap 'chmod -R u+rwx "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT

A="--home $WORK/alice"
B="--home $WORK/bob"
C="--home $WORK/carol"

# --- keys ---
run "alice generates" 0 "" -- $A key generate --name alice
grep -Eq '^M[A-Z2-7]{3}(-[A-Z2-7]{4}){6}$' "$WORK/out" && ok || bad "key generate prints a UDF"
ALICE_KID=$(cat "$WORK/out")
run "bob generates" 0 "" -- $B key generate --name bob
BOB_KID=$(cat "$WORK/out")
run "carol generates" 0 "" -- $C key generate --name carol
run "duplicate name" 2 "already exists" -- $A key generate --name alice
run "bad name" 2 "key name" -- $A key generate --name ../evil
[ "$(stat -c %a "$WORK/alice")" = 700 ] && ok || bad "store is 0700"
[ "$(stat -c %a "$WORK/alice/keys/alice.json")" = 600 ] && ok || bad "key file is 0600"
run "export" 0 "" -- $A key export alice -o "$WORK/alice.pub.json"
grep -q Private "$WORK/alice.pub.json" && bad "export leaks a private key" || ok
run "export bob" 0 "" -- $B key export bob -o "$WORK/bob.pub.json"
run "alice imports bob" 0 "" -- $A key import "$WORK/bob.pub.json"
run "bob imports alice" 0 "" -- $B key import "$WORK/alice.pub.json"
run "import twice" 2 "already exists" -- $A key import "$WORK/bob.pub.json"
run "import a private key" 2 "public key files only" -- $A key import "$WORK/alice/keys/alice.json"
printf '{"RecryptPublicKey":{"Name":"x"}}' >"$WORK/broken.json"
run "import broken" 2 "Encryption: missing" -- $A key import "$WORK/broken.json"
run "list" 0 "" -- $A key list
grep -q "^alice  $ALICE_KID  .*  private$" "$WORK/out" && grep -q "^bob  $BOB_KID  .*  public$" "$WORK/out" && ok || bad "key list: $(cat "$WORK/out")"
chmod 755 "$WORK/carol"
run "unsafe store" 2 "others may access it" -- $C key list
chmod 700 "$WORK/carol"

# --- encode / decode ---
printf 'meet at noon\n' >"$WORK/msg.txt"
head -c 300000 /dev/urandom >"$WORK/big.bin"
run "encode to bob by name, signed" 0 "" -- $A dare encode "$WORK/msg.txt" --to bob --sign -o "$WORK/msg.dare"
head -c 8 "$WORK/msg.dare" | od -An -tx1 | grep -q "89 44 41 52 45 0d 0a 1a" && ok || bad "file prefix"
run "bob decodes" 0 "" -- $B dare decode "$WORK/msg.dare" -o "$WORK/msg.out"
cmp -s "$WORK/msg.txt" "$WORK/msg.out" && ok || bad "decoded text differs"
[ "$(stat -c %a "$WORK/msg.out")" = 600 ] && ok || bad "decoded output is 0600"
run "alice cannot decode" 2 "no key for any recipient ($BOB_KID)" -- $A dare decode "$WORK/msg.dare" -o "$WORK/nope"
[ -e "$WORK/nope" ] && bad "failed decode left a file" || ok
run "encode by UDF and by file" 0 "" -- $A dare encode "$WORK/big.bin" --to "${BOB_KID:0:24}" --to "$WORK/alice.pub.json" -o "$WORK/big.dare"
run "bob decodes big" 0 "" -- $B dare decode "$WORK/big.dare" -o "$WORK/big.bob"
run "alice decodes big" 0 "" -- $A dare decode "$WORK/big.dare" -o "$WORK/big.alice"
cmp -s "$WORK/big.bin" "$WORK/big.bob" && cmp -s "$WORK/big.bin" "$WORK/big.alice" && ok || bad "multi-recipient decode"
run "no overwrite" 2 "exists (use --force" -- $B dare decode "$WORK/big.dare" -o "$WORK/big.bob"
run "overwrite with --force" 0 "" -- $B dare decode "$WORK/big.dare" -o "$WORK/big.bob" --force
run "default output name" 0 "" -- $B dare decode "$WORK/msg.dare"
cmp -s "$WORK/msg.txt" "$WORK/msg" && ok || bad "default output FILE without .dare"
cat "$WORK/msg.txt" | "$RECRYPT" $A dare encode - --to bob -o - 2>/dev/null | "$RECRYPT" $B dare decode - -o - >"$WORK/piped" 2>/dev/null
cmp -s "$WORK/msg.txt" "$WORK/piped" && ok || bad "pipe through encode and decode"
run "aes-gcm" 0 "" -- $A dare encode "$WORK/big.bin" --to bob --aead aes256-gcm -o "$WORK/gcm.dare"
if grep -q aes /proc/cpuinfo; then
    run "aes-gcm decode" 0 "" -- $B dare decode "$WORK/gcm.dare" -o "$WORK/gcm.out"
    cmp -s "$WORK/big.bin" "$WORK/gcm.out" && ok || bad "aes-gcm round trip"
fi
run "signed plaintext" 0 "" -- $A dare encode "$WORK/msg.txt" --sign alice -o "$WORK/signed.dare"
run "carol opens signed plaintext, signer unknown" 0 "" -- $C dare decode "$WORK/signed.dare" -o "$WORK/signed.out"
grep -q "signature by unknown key" "$WORK/err" && ok || bad "unknown signer noted"
run "bob opens it, signer known" 0 "" -- $B dare decode "$WORK/signed.dare" -o "$WORK/signed.bob"
[ -s "$WORK/err" ] && bad "verified signature should be silent: $(cat "$WORK/err")" || ok

# --- damaged and wrong files ---
cp "$WORK/big.dare" "$WORK/flip.dare"
printf '\x55' | dd of="$WORK/flip.dare" bs=1 seek=150000 conv=notrunc 2>/dev/null
run "flipped byte" 2 "authentication failed" -- $B dare decode "$WORK/flip.dare" -o "$WORK/flip.out"
[ -e "$WORK/flip.out" ] && bad "damaged file left output" || ok
head -c 200000 "$WORK/big.dare" >"$WORK/cut.dare"
run "truncated" 2 "truncated" -- $B dare decode "$WORK/cut.dare" -o "$WORK/cut.out"
cat "$WORK/msg.dare" "$WORK/msg.txt" >"$WORK/long.dare"
run "extended" 2 "data after the envelope" -- $B dare decode "$WORK/long.dare" -o "$WORK/long.out"
run "not a dare file" 2 "not a DARE file" -- $B dare decode "$WORK/msg.txt" -o "$WORK/x.out"
run "no .dare suffix" 2 "name the output with -o" -- $B dare decode "$WORK/msg.txt"
run "missing input" 2 "No such file" -- $B dare decode "$WORK/none.dare"
run "unknown recipient" 2 "--to dave" -- $A dare encode "$WORK/msg.txt" --to dave
run "sign with public key only" 2 "only its public key" -- $A dare encode "$WORK/msg.txt" --sign bob -o "$WORK/s2.dare"
run "sign with an empty store" 2 "name one with --sign NAME" -- --home "$WORK/empty" dare encode "$WORK/msg.txt" --sign -o "$WORK/s3.dare"
run "terminal refusal is only for terminals" 0 "" -- $A dare encode "$WORK/msg.txt" --to bob -o -
run "bad aead" 1 "" -- $A dare encode "$WORK/msg.txt" --aead rot13

# --- info ---
run "info" 0 "" -- $B dare info "$WORK/msg.dare"
grep -q '"Form": "binary"' "$WORK/out" && grep -q "\"kid\": \"$BOB_KID\"" "$WORK/out" && ok || bad "info shows form and recipient"
grep -qi "private\|wmk\": \"\"" "$WORK/out" && bad "info shows secrets" || ok
run "info of garbage" 2 "not a DARE file" -- $B dare info "$WORK/msg.txt"

# --- containers ---
CT="$WORK/store.dare"
run "container create" 0 "" -- dare container create "$CT" --type chain
run "container create twice" 2 "File exists" -- dare container create "$CT"
run "container bad type" 1 "" -- dare container create "$WORK/x.dare" --type forest
printf '{"v":1}' >"$WORK/v1"; printf '{"v":2}' >"$WORK/v2"; printf '{"w":1}' >"$WORK/w1"
run "append 1" 0 "" -- dare container append "$CT" "$WORK/v1" --id alice
[ "$(cat "$WORK/out")" = 1 ] && ok || bad "append prints the index"
run "append 2" 0 "" -- dare container append "$CT" "$WORK/w1" --id bob
run "append 3" 0 "" -- dare container append "$CT" "$WORK/v2" --id alice --event Update
run "list" 0 "" -- dare container list "$CT"
[ "$(sed -n 3p "$WORK/out")" = "3  Update  alice  7" ] && ok || bad "container list: $(cat "$WORK/out")"
run "get by id" 0 "" -- dare container get "$CT" --id alice
[ "$(cat "$WORK/out")" = '{"v":2}' ] && ok || bad "get by id returns the latest state"
run "get by index" 0 "" -- dare container get "$CT" 1 -o "$WORK/got"
cmp -s "$WORK/got" "$WORK/v1" && ok || bad "get by index to a file"
run "get missing" 2 "no object carol" -- dare container get "$CT" --id carol
run "get frame 0" 2 "INDEX" -- dare container get "$CT"
run "verify" 0 "" -- dare container verify "$CT"
grep -q "^3 frames verified; apex " "$WORK/out" && ok || bad "verify output: $(cat "$WORK/out")"
cp "$CT" "$WORK/torn.dare"
head -c 10 "$WORK/v1" >>"$WORK/torn.dare"   # a torn write after the last frame
run "torn tail repaired" 0 "" -- dare container verify "$WORK/torn.dare"
grep -q "cut a torn tail of 7 bytes after frame 3" "$WORK/err" && ok || bad "torn tail noted: $(cat "$WORK/err")"
cp "$CT" "$WORK/hurt.dare"
printf 'X' | dd of="$WORK/hurt.dare" bs=1 seek=200 conv=notrunc 2>/dev/null
size_before=$(stat -c %s "$WORK/hurt.dare")
run "damage refused" 2 "frame" -- dare container verify "$WORK/hurt.dare"
[ "$(stat -c %s "$WORK/hurt.dare")" = "$size_before" ] && ok || bad "damaged container was truncated"
run "not a container" 2 "not a DARE container" -- dare container list "$WORK/v1"
run "compact" 0 "" -- dare container compact "$CT"
[ "$(cat "$WORK/out")" = "3 frames compacted to 2 objects and an index" ] && ok || bad "compact output: $(cat "$WORK/out")"
run "get after compact" 0 "" -- dare container get "$CT" --id alice
[ "$(cat "$WORK/out")" = '{"v":2}' ] && ok || bad "state kept by compaction"


# Merkle with signed apexes, an index frame
MK="$WORK/audit.dare"
run "merkle create" 0 "" -- $A dare container create "$MK" --type merkle
for i in 1 2 3; do
    run "merkle append $i" 0 "" -- $A dare container append "$MK" "$WORK/v1" --id "e$i" --sign alice
done
run "merkle unsigned append" 0 "" -- $A dare container append "$MK" "$WORK/v2" --id e4
run "merkle verify signatures" 0 "" -- $A dare container verify "$MK" --signatures
grep -q "^4 frames verified; 3 signed apexes, the last at frame 3; apex " "$WORK/out" && ok || bad "merkle verify: $(cat "$WORK/out")"
run "merkle verify, signer unknown" 2 "unknown key" -- --home "$WORK/nobody" dare container verify "$MK" --signatures
run "tree cannot be signed" 0 "" -- $A dare container create "$WORK/tree.dare" --type tree
run "tree sign refused" 2 "Chain and Merkle" -- $A dare container append "$WORK/tree.dare" "$WORK/v1" --sign alice
run "index" 0 "" -- $A dare container index "$MK"
[ "$(cat "$WORK/out")" = 5 ] && ok || bad "index prints its frame: $(cat "$WORK/out")"
run "list shows the index" 0 "" -- $A dare container list "$MK"
grep -q "^5  (index)  -  " "$WORK/out" && ok || bad "index frame listed: $(cat "$WORK/out")"
run "append after index" 0 "" -- $A dare container append "$MK" "$WORK/v2" --id e1 --event Update
run "verify after index" 0 "" -- $A dare container verify "$MK"
grep -q "^6 frames verified" "$WORK/out" && ok || bad "verify after index: $(cat "$WORK/out")"

# an encrypted container: bob's key opens it, alice's cannot
EC="$WORK/secret.dare"
# (alice imported bob's public key above)
run "encrypted create" 0 "" -- $A dare container create "$EC" --to bob
run "encrypted append (alice, public key only)" 0 "" -- $A dare container append "$EC" "$WORK/v1" --id topsecret --to bob
grep -q "topsecret" "$EC" && bad "the object id is in the clear" || ok
grep -q '"v":1' "$EC" && bad "the payload is in the clear" || ok
run "encrypted append without key or recipients" 2 "cannot append" -- $A dare container append "$EC" "$WORK/v2" --id more
run "alice cannot read" 2 "no key" -- $A dare container get "$EC" 1
run "alice can verify" 0 "" -- $A dare container verify "$EC"
run "bob reads" 0 "" -- $B dare container get "$EC" --id topsecret
[ "$(cat "$WORK/out")" = '{"v":1}' ] && ok || bad "bob reads the payload"
run "bob appends reusing the exchange" 0 "" -- $B dare container append "$EC" "$WORK/v2" --id topsecret --event Update
[ "$(grep -c '"recipients"' "$EC")" = 1 ] && ok || bad "exchanges: $(grep -c '"recipients"' "$EC")"
run "compact needs recipients" 2 "recipients" -- $B dare container compact "$EC"
run "compact encrypted" 0 "" -- $B dare container compact "$EC" --to bob
run "bob reads after compact" 0 "" -- $B dare container get "$EC" --id topsecret
[ "$(cat "$WORK/out")" = '{"v":2}' ] && ok || bad "state after encrypted compaction"

finish
