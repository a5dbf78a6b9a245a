#!/usr/bin/env bash
# Enrols a node with a Navette server, pushes a new seeker file, pulls, and
# verifies the server's signature on an answer — with nothing but curl,
# openssl (3.0 or later) and coreutils. Every request and answer is printed,
# headers included. docs/integrator-guide.md walks through it.
#
#   Protocol/tools/walkthrough.sh SERVER_URL ENROLMENT_CODE [WORK_DIR]
#
# Exits non-zero, saying why, at the first answer that is not what the spec
# says. Keys and bodies stay in WORK_DIR (a new temporary directory by default).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 SERVER_URL ENROLMENT_CODE [WORK_DIR]" >&2
    exit 2
fi
server=${1%/}
code=$2
work=${3:-$(mktemp -d)}
mkdir -p "$work"
authority=${server#*://}
authority=${authority%%/*}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
b64url_decode() {
    local s
    s=$(tr -- '-_' '+/')
    while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
    printf '%s' "$s" | base64 -d
}
fail() { echo "FAILED: $*" >&2; exit 1; }
step() { printf '\n=== %s\n' "$*"; }

# --- The node's identity: an Ed25519 key pair and a random 64-bit node id.
openssl genpkey -algorithm ed25519 -out "$work/node.pem" 2>/dev/null
public_key=$(openssl pkey -in "$work/node.pem" -pubout -outform DER | tail -c 32 | b64url)
node=$(openssl rand -hex 8)
echo "node id $node, public key $public_key"

# sign METHOD PATH QUERY [BODY_FILE]: writes the request's signed header lines
# to $work/request-headers (spec 8.1).
sign() {
    local method=$1 path=$2 query=$3 body=${4:-}
    local created nonce components base params signature digest
    created=$(date +%s)
    nonce=$(openssl rand 16 | b64url)
    components='"@method" "@authority" "@path" "@query"'
    base="\"@method\": $method"$'\n'"\"@authority\": $authority"$'\n'"\"@path\": $path"$'\n'"\"@query\": ?$query"
    : > "$work/request-headers"
    if [ -n "$body" ]; then
        digest="sha-256=:$(openssl dgst -sha256 -binary "$body" | base64 -w0):"
        components="$components \"content-type\" \"content-digest\""
        base="$base"$'\n'"\"content-type\": application/json"$'\n'"\"content-digest\": $digest"
        printf 'Content-Type: application/json\nContent-Digest: %s\n' "$digest" >> "$work/request-headers"
    fi
    params="($components);created=$created;keyid=\"$node\";alg=\"ed25519\";nonce=\"$nonce\";tag=\"navette-sync-v1-req\""
    printf '%s\n"@signature-params": %s' "$base" "$params" > "$work/request-base"
    signature=$(openssl pkeyutl -sign -inkey "$work/node.pem" -rawin -in "$work/request-base" | base64 -w0)
    printf 'Signature-Input: sync=%s\nSignature: sync=:%s:\n' "$params" "$signature" >> "$work/request-headers"
}

# send METHOD PATH QUERY [BODY_FILE]: signs (unless UNSIGNED=1), sends, prints
# both sides; the answer's headers go to $work/answer-headers, its body to
# $work/answer.json, its status to $status.
send() {
    local method=$1 path=$2 query=$3 body=${4:-} url
    url="$server$path${query:+?$query}"
    if [ "${UNSIGNED:-0}" = 1 ]; then : > "$work/request-headers"; else sign "$@"; fi
    local args=(-sS -X "$method" -D "$work/answer-headers" -o "$work/answer.json" -w '%{http_code}')
    while IFS= read -r line; do args+=(-H "$line"); done < "$work/request-headers"
    [ -n "$body" ] && args+=(--data-binary "@$body")
    echo "> $method $path${query:+?$query}"
    sed 's/^/> /' "$work/request-headers"
    [ -n "$body" ] && { printf '> '; cat "$body"; echo; }
    status=$(curl "${args[@]}" "$url")
    tr -d '\r' < "$work/answer-headers" | grep -v '^$' | sed 's/^/< /'
    printf '< '; cat "$work/answer.json"; echo
}

# json MEMBER: a top-level string member of the last answer (enough here).
json() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/answer.json"; }
header() { sed -n "/^$1: /I{s/^[^:]*: //;s/\r\$//;p;q;}" "$work/answer-headers"; }

step "1. The server's keys (unsigned request; the answer is signed)"
UNSIGNED=1 send GET /v1/server-keys ""
[ "$status" = 200 ] || fail "GET /v1/server-keys answered $status"

step "2. Enrol: redeem the one-time code, signed by the key being registered"
printf '{"code":"%s","name":"curl walkthrough","node":"%s","publicKey":"%s","schemaVersion":1}' \
    "$code" "$node" "$public_key" > "$work/enrol.json"
send POST /v1/enrol "" "$work/enrol.json"
[ "$status" = 200 ] || fail "enrolment answered $status: $(cat "$work/answer.json")"
agency=$(json agency)
counsellor=$(json counsellor)
server_key=$(sed -n 's/.*"publicKey":"\([^"]*\)".*/\1/p' "$work/answer.json")
server_keyid=$(sed -n 's/.*"keyid":"\([^"]*\)".*/\1/p' "$work/answer.json")
echo "enrolled in agency $agency for counsellor ${counsellor:-none}; pinned server key $server_keyid"

step "3. Push a new seeker file: two changes, canonical JSON"
record=$(openssl rand -hex 16 | sed -E 's/^(.{8})(.{4}).(.{3})[0-9a-f](.{3})(.{12})$/\1-\2-4\3-8\4-\5/')
now_ms=$(date +%s%3N)
t1=$(printf '%012x%04x' "$now_ms" 0)
t2=$(printf '%012x%04x' "$now_ms" 1)
printf '{"batch":"walkthrough-%s","changes":[' "$node" > "$work/push.json"
printf '{"collection":"seeker","field":"agency","id":"%s-1","op":"set","record":"%s","time":"%s","value":"%s"},' \
    "$node" "$record" "$t1" "$agency" >> "$work/push.json"
printf '{"collection":"seeker","field":"referent","id":"%s-2","op":"set","record":"%s","time":"%s","value":"%s"}' \
    "$node" "$record" "$t2" "$counsellor" >> "$work/push.json"
printf '],"schemaVersion":1}' >> "$work/push.json"
send POST /v1/sync/push "" "$work/push.json"
[ "$status" = 200 ] || fail "the push answered $status"
grep -q '"accepted":2' "$work/answer.json" || fail "the server did not accept both changes"

step "4. Verify the server's signature on that answer (spec 8.6)"
# The covered components are listed in the answer's Signature-Input; rebuild
# the base from the answer and from the request it answers.
answer_input=$(header signature-input)
answer_signature=$(header signature | sed -E 's/^sync=:(.*):$/\1/')
answer_params=${answer_input#sync=}
request_input=$(sed -n 's/^Signature-Input: //p' "$work/request-headers")
[ "$(openssl dgst -sha256 -binary "$work/answer.json" | base64 -w0)" = "$(header content-digest | sed -E 's/^sha-256=:(.*):$/\1/')" ] \
    || fail "the answer's body does not match its Content-Digest"
{
    printf '"@status": %s\n' "$status"
    printf '"content-type": %s\n' "$(header content-type)"
    printf '"content-digest": %s\n' "$(header content-digest)"
    printf '"@method";req: POST\n"@authority";req: %s\n"@path";req: /v1/sync/push\n"@query";req: ?\n' "$authority"
    printf '"signature-input";req: %s\n' "$request_input"
    printf '"@signature-params": %s' "$answer_params"
} > "$work/answer-base"
case "$answer_params" in
    *'"@status" "content-type" "content-digest" "@method";req "@authority";req "@path";req "@query";req "signature-input";req)'*) ;;
    *) fail "the answer's signature does not cover what the profile requires: $answer_params" ;;
esac
case "$answer_params" in *"keyid=\"$server_keyid\""*) ;; *) fail "the answer is not signed by the pinned key" ;; esac
# An Ed25519 public key in PEM: the fixed SubjectPublicKeyInfo prefix, then the 32 raw bytes.
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; printf '%s' "$server_key" | b64url_decode; } \
    | openssl pkey -pubin -inform DER -out "$work/server.pem"
printf '%s' "$answer_signature" | base64 -d > "$work/answer.sig"
openssl pkeyutl -verify -pubin -inkey "$work/server.pem" -rawin -in "$work/answer-base" -sigfile "$work/answer.sig" >/dev/null \
    || fail "the server's signature does not verify"
echo "the answer's signature verifies with the pinned key $server_keyid"

step "5. Pull: bootstrap, then from the cursor"
send GET /v1/sync/pull "bootstrap=1&limit=500"
[ "$status" = 200 ] || fail "the bootstrap pull answered $status"
cursor=$(json cursor)
send GET /v1/sync/pull "cursor=$cursor&limit=500"
[ "$status" = 200 ] || fail "the pull from the cursor answered $status"

step "6. A replayed request is refused (spec SIG-007)"
UNSIGNED=0
args=(-sS -o /dev/null -w '%{http_code}')
while IFS= read -r line; do args+=(-H "$line"); done < "$work/request-headers"
replayed=$(curl "${args[@]}" "$server/v1/sync/pull?cursor=$cursor&limit=500")
[ "$replayed" = 401 ] || fail "the replayed pull answered $replayed"
echo "the same signed pull sent again: $replayed (replay)"

echo
echo "walkthrough complete: enrolled $node, pushed 2 changes, pulled, verified the server's signature"
