#!/usr/bin/env bash
# Script-style tests of `recrypt udf ...`: run the binary, compare stdout, stderr and exit code.
# Known answers come from test/vectors/udf.json, shamir.json and mesh-keys.json (ids noted).
# Usage: cli_udf_test.sh PATH/TO/recrypt VECTOR_DIR
set -u
RECRYPT=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

# expect NAME EXIT_CODE EXPECTED_STDOUT -- ARGS...   (stdin from $STDIN_FILE if set)
expect() {
    local name=$1 code=$2 want=$3
    shift 4
    local out err rc
    if [ -n "${STDIN_FILE:-}" ]; then
        out=$("$RECRYPT" "$@" <"$STDIN_FILE" 2>"$WORK/err"); rc=$?
    else
        out=$("$RECRYPT" "$@" </dev/null 2>"$WORK/err"); rc=$?
    fi
    err=$(cat "$WORK/err")
    local ok=1
    [ "$rc" = "$code" ] || ok=0
    if [ "$code" = 0 ]; then
        [ "$out" = "$want" ] || ok=0
        [ -z "$err" ] || ok=0
    else
        # failures: nothing on stdout, exactly one line on stderr starting "recrypt: "
        [ -z "$out" ] || ok=0
        [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || ok=0
        case "$err" in recrypt:\ *) ;; *) ok=0 ;; esac
        [ -z "$want" ] || case "$err" in *"$want"*) ;; *) ok=0 ;; esac
    fi
    if [ $ok = 1 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf 'FAIL %s\n  args: %s\n  exit %s (want %s)\n  stdout: %s\n  stderr: %s\n  want: %s\n' \
            "$name" "$*" "$rc" "$code" "$out" "$err" "$want"
    fi
}

# expect_match NAME REGEX -- ARGS...: success with stdout matching an extended regex
expect_match() {
    local name=$1 re=$2
    shift 3
    local out rc
    out=$("$RECRYPT" "$@" </dev/null 2>"$WORK/err"); rc=$?
    if [ $rc = 0 ] && [ ! -s "$WORK/err" ] && printf '%s\n' "$out" | grep -Eq "$re"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf 'FAIL %s\n  args: %s\n  exit %s\n  stdout: %s\n  stderr: %s\n  want /%s/\n' \
            "$name" "$*" "$rc" "$out" "$(cat "$WORK/err")" "$re"
    fi
}

printf '%s' 'UDF Data Value' >"$WORK/value.txt"
printf '%s' 'Konrad is the traitor' >"$WORK/konrad.txt"
: >"$WORK/empty"

# --- udf digest (udf.json content_digest) ---
expect "digest sha2 140" 0 MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF -- udf digest "$WORK/value.txt" --content-type text/plain
expect "digest sha2 100" 0 MDDK-7N6A-727A-JZNO-STRX -- udf digest "$WORK/value.txt" --content-type text/plain --bits 100
expect "digest sha2 260" 0 MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF-XI6O-ZSLU-2VOA-TZQ6-JMHP-TSXP -- udf digest "$WORK/value.txt" --content-type text/plain --bits 260
expect "digest sha3" 0 KCFI-NCQG-DRKG-47R7-OVPT-TCHZ-7UXY -- udf digest "$WORK/value.txt" --content-type text/plain --alg sha3
expect "digest empty" 0 MBID-UQYL-4UGZ-ZDAY-KFFM-QLAN-6RLN -- udf digest "$WORK/empty" --content-type text/plain
STDIN_FILE="$WORK/value.txt" expect "digest stdin" 0 MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF -- udf digest - --content-type text/plain
printf '%s' 'UDF Compressed Document 4187123' >"$WORK/compressed.txt"
expect "digest compressed" 0 MGHB-JWIZ-J3LA-EEWD-GCT3-WX6H-C5W2 -- udf digest "$WORK/compressed.txt" --content-type text/plain
expect_match "digest default content type" '^M[A-Z2-7]{3}(-[A-Z2-7]{4}){6}$' -- udf digest "$WORK/value.txt"
expect "digest missing file" 2 "$WORK/nope: No such file or directory" -- udf digest "$WORK/nope"
expect "digest directory" 2 "Is a directory" -- udf digest "$WORK"
expect "digest bad alg" 1 "" -- udf digest "$WORK/value.txt" --alg md5
expect "digest bits low" 1 "" -- udf digest "$WORK/value.txt" --bits 99
expect "digest bits high" 1 "" -- udf digest "$WORK/value.txt" --bits 441
expect "digest bits text" 1 "" -- udf digest "$WORK/value.txt" --bits many
expect "digest no file" 1 "" -- udf digest

# --- udf mac (udf.json authenticator) ---
expect "mac draft" 0 ABGM-G76T-7GPF-FTYH-SB2F-HBDF-SW6B -- udf mac "$WORK/konrad.txt" --key NDD7-6CMX-H2FW-ISAL-K4VB-DQ3E-PEDM --content-type text/plain
expect "mac test" 0 ADFI-EPKG-VKPP-NHHM-5DCA-QBRW-AVRJ -- udf mac "$WORK/konrad.txt" --key NC56-CJPL-HRLU-MGTU-PUEW-S5WU-PYGP --content-type text/plain
printf 'NDD7-6CMX-H2FW-ISAL-K4VB-DQ3E-PEDM\n' >"$WORK/key.txt"
STDIN_FILE="$WORK/key.txt" expect "mac key from stdin" 0 ABGM-G76T-7GPF-FTYH-SB2F-HBDF-SW6B -- udf mac "$WORK/konrad.txt" --key - --content-type text/plain
expect "mac both stdin" 2 "both read standard input" -- udf mac - --key -
expect "mac no key" 1 "" -- udf mac "$WORK/konrad.txt"

# --- nonce and key ---
expect_match "nonce default" '^N[A-Z2-7]{3}(-[A-Z2-7]{4}){6}$' -- udf nonce
expect_match "nonce 256" '^N[A-Z2-7]{3}(-[A-Z2-7]{4}){12}-[A-Z2-7]$' -- udf nonce --bits 256
expect "nonce bits not byte" 2 "multiple of 8" -- udf nonce --bits 130
expect "nonce bits low" 1 "" -- udf nonce --bits 64
expect_match "key default" '^E[A-Z2-7]{3}(-[A-Z2-7]{4}){6}$' -- udf key
a=$("$RECRYPT" udf key); b=$("$RECRYPT" udf key)
if [ "$a" != "$b" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL two keys are equal"; fi

# --- key-fingerprint (mesh-keys.json) ---
expect "fingerprint ed25519 public" 0 MACJ-BWDW-BTLW-CHDC-VWBJ-SHD3-XMB2 -- udf key-fingerprint --alg ed25519 --public hXYwxCyxUZj5MvaA0jWVXlZKKOUFCLOcEGFeX4K7GPc
expect "fingerprint ed25519 seed" 0 MBVS-ODR3-5EAW-BJHA-22VB-RP5P-6D6X -- udf key-fingerprint --alg ed25519 --seed _VPiqwO8EMWJQuFLRZbogEdAnVFXhdxfRBSUXgi4irE
printf '_VPiqwO8EMWJQuFLRZbogEdAnVFXhdxfRBSUXgi4irE\n' >"$WORK/seed.txt"
STDIN_FILE="$WORK/seed.txt" expect "fingerprint seed stdin" 0 MBVS-ODR3-5EAW-BJHA-22VB-RP5P-6D6X -- udf key-fingerprint --alg ed25519 --seed -
expect "fingerprint ed448" 0 MDUH-SCDO-UMPO-LCBP-QGOU-AZIG-PJ5D -- udf key-fingerprint --alg ed448 --public GwaCnKBr1m7kxK3Q-2gAk_fOie2Jr-4E1EHGcfcHhcwRfRa2Viy_WpgD1-dobDDv-DsvO5NR444A
expect "fingerprint x448" 0 MCYR-3LJR-46N3-5YXG-IJI5-NE56-HBXS -- udf key-fingerprint --alg x448 --public BnJHb7RbdqdXpRukQ2ru2i5s-0ySPqHMMzXPUJsbVrfL9FCHOS-d9DzC_8d-8szXGP470XdhwrMA
expect "fingerprint short key" 2 "31 bytes, expected 32" -- udf key-fingerprint --alg ed25519 --public hXYwxCyxUZj5MvaA0jWVXlZKKOUFCLOcEGFeX4K7GA
expect "fingerprint bad base64" 2 "--public: base64url" -- udf key-fingerprint --alg ed25519 --public 'hXYw+CyxUZj5MvaA0jWVXlZKKOUFCLOcEGFeX4K7GPc'
expect "fingerprint padded base64" 2 "--public: base64url" -- udf key-fingerprint --alg ed25519 --public 'hXYwxCyxUZj5MvaA0jWVXlZKKOUFCLOcEGFeX4K7GPc='
expect "fingerprint x25519 seed" 2 "give --public" -- udf key-fingerprint --alg x25519 --seed _VPiqwO8EMWJQuFLRZbogEdAnVFXhdxfRBSUXgi4irE
expect "fingerprint bad alg" 1 "" -- udf key-fingerprint --alg rsa --public AAAA
expect "fingerprint neither" 2 "exactly one" -- udf key-fingerprint --alg ed25519
expect "fingerprint both" 1 "" -- udf key-fingerprint --alg ed25519 --public AAAA --seed AAAA

# --- split and recover (shamir.json) ---
expect "recover draft13 2of3" 0 764F4125A81FC984510E473432497AD2 -- udf recover SAQM-JPZ2-TI3G-ZC4N-HNMZ-HREO-EVNC-A SARG-DHZN-QNJQ-MD47-B7YC-ZZKF-3UMI-S
expect "recover 3of5" 0 8EFE6610A594817555E409BEEBA2F916 -- udf recover SAZ4-MWA6-GNGK-N6Q7-QI4P-AEQR-Q4YJ-G SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-O sa2o-qtqb-fqgg-4h4j-hz7o-de7e-6gt3-q
expect "recover too few" 2 "2 shares given, threshold is 3" -- udf recover SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-O SAY6-OXXE-SUNL-KUMX-3ZG6-TRDW-UDAK-Y
expect "recover mixed" 2 "threshold" -- udf recover SAQM-JPZ2-TI3G-ZC4N-HNMZ-HREO-EVNC-A SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-O
expect "recover duplicate" 2 "repeats share number 1" -- udf recover SAQM-JPZ2-TI3G-ZC4N-HNMZ-HREO-EVNC-A SAQM-JPZ2-TI3G-ZC4N-HNMZ-HREO-EVNC-A
expect "recover not a share" 2 "share 1: shamir: share 1: type 104 (nonce) is not a share" -- udf recover NDZZ-KNXV-IWNN-ZPN3-CIZY-YJUF-XMBA SAQM-JPZ2-TI3G-ZC4N-HNMZ-HREO-EVNC-A
expect "recover bad char" 2 "share 2: udf: invalid character" -- udf recover SAQM-JPZ2-TI3G-ZC4N-HNMZ-HREO-EVNC-A 'SARG-DHZN-QNJQ-MD47-B7YC-ZZKF-3UMI-$'
expect "recover none" 1 "" -- udf recover
"$RECRYPT" udf split --threshold 3 --shares 5 --secret-hex 00112233445566778899AABBCCDDEEFF >"$WORK/shares" 2>"$WORK/err"
if [ "$(wc -l <"$WORK/shares")" = 5 ] && [ ! -s "$WORK/err" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL split 3 of 5"; fi
mapfile -t S <"$WORK/shares"
expect "split then recover 2,4,5" 0 00112233445566778899AABBCCDDEEFF -- udf recover "${S[1]}" "${S[3]}" "${S[4]}"
expect "split then recover all" 0 00112233445566778899AABBCCDDEEFF -- udf recover "${S[@]}"
key=$("$RECRYPT" udf key --bits 256)
"$RECRYPT" udf split --threshold 2 --shares 2 --secret "$key" >"$WORK/kshares"
mapfile -t K <"$WORK/kshares"
expect "split udf recover udf" 0 "$key" -- udf recover --udf "${K[@]}"
expect "split truncated udf" 2 "do not fill a byte" -- udf split --threshold 2 --shares 2 --secret EAYD-XWZT-KLWY-LAM5-65GD-II6N-MPZS-TP
"$RECRYPT" udf split --threshold 2 --shares 2 --secret-hex FF00 >"$WORK/ffshares"
mapfile -t F <"$WORK/ffshares"
expect "recover --udf of raw hex" 2 "not a UDF" -- udf recover --udf "${F[@]}"
expect "split threshold > shares" 2 "shares outside 3..15" -- udf split --threshold 3 --shares 2 --secret-hex 00
expect "split 16 shares" 1 "" -- udf split --threshold 2 --shares 16 --secret-hex 00
expect "split bad hex" 2 "--secret-hex: hex: odd number of digits" -- udf split --threshold 2 --shares 3 --secret-hex 001
expect "split too long" 2 "65 bytes" -- udf split --threshold 2 --shares 3 --secret-hex "$(printf '%0130d' 0)"
expect "split bad udf" 2 "--secret: udf" -- udf split --threshold 2 --shares 3 --secret 'EAYD-!'
expect "split no secret" 2 "exactly one" -- udf split --threshold 2 --shares 3

# --- earl (udf.json earl) ---
expect "earl draft13" 0 "$(printf 'udf://example.com/EADA-YKC5-WSUK-AACN-WRRO-MJOQ-PVSK-SM\nMDQK-2L7C-OD5I-QJNG-ZJ3Y-OHAH-GMTW-USRH-ENGL-SG23-APAP-YH7I-ZIFA-J3UQ')" -- udf earl --domain example.com --key EADA-YKC5-WSUK-AACN-WRRO-MJOQ-PVSK-SM
expect "earl 2022 loose key" 0 "$(printf 'udf://example.com/EAYD-XWZT-KLWY-LAM5-65GD-II6N-MPZS-TP\nMCLJ-LRVD-ZDWD-LHMF-34FB-5SIT-VUI4-XGOL-QKY6-VYDI-O4UI-MBGF-5YLU-HPJE')" -- udf earl --domain Example.COM --key eaydxwztklwylam565gdii6nmpzstp
expect_match "earl new key" '^udf://example\.org/E[A-Z2-7]{3}(-[A-Z2-7]{4}){6}$' -- udf earl --domain example.org
expect "earl bad domain" 2 "invalid domain character" -- udf earl --domain 'exa mple.com'
expect "earl digest as key" 2 "expected an encryption key" -- udf earl --domain example.com --key MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF
expect "earl share as key" 2 "recover the secret first" -- udf earl --domain example.com --key SAQM-JPZ2-TI3G-ZC4N-HNMZ-HREO-EVNC-A

# --- usage ---
expect "no command" 1 "" --
expect "unknown command" 1 "" -- frobnicate
expect "udf alone" 1 "" -- udf
"$RECRYPT" --help >"$WORK/help" 2>&1 && grep -q "udf" "$WORK/help" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL --help"; }
"$RECRYPT" udf split --help >"$WORK/help" 2>&1 && grep -q "Example" "$WORK/help" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL split --help"; }

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
