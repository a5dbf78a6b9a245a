#!/usr/bin/env python3
"""An independent reference for Protocol/vectors: builds the signature and
encoding vectors from the spec's rules alone, in Python, with the
`cryptography` package's Ed25519 — no Navette code involved. The Swift tests
must reproduce every byte, so the two implementations check each other.

    python3 Protocol/tools/reference_vectors.py        # rewrites the vectors
    python3 Protocol/tools/reference_vectors.py --check # fails if they differ

signatures.json keeps its RFC 9421 B.2.6 entry as published."""
import base64, gzip, hashlib, json, pathlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

ROOT = pathlib.Path(__file__).resolve().parent.parent / "vectors"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def canonical(v):
    """Spec 3.1 (ENC-004), for the values these vectors use."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        out = ['"']
        for ch in v:
            o = ord(ch)
            if ch == '"':
                out.append('\\"')
            elif ch == "\\":
                out.append("\\\\")
            elif ch in "\n\r\t\b\f":
                out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}[ch])
            elif o < 0x20:
                out.append("\\u%04x" % o)
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)
    if isinstance(v, list):
        return "[" + ",".join(canonical(e) for e in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-8"))
        return "{" + ",".join(canonical(k) + ":" + canonical(v[k]) for k in keys) + "}"
    raise TypeError(type(v))


def digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def key(seed_text):
    seed = hashlib.sha256(seed_text.encode()).digest()
    k = Ed25519PrivateKey.from_private_bytes(seed)
    pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return k, b64url(seed), b64url(pub)


def params_text(components, params):
    inner = "(" + " ".join(components) + ")"
    for name, value in params:
        inner += ";" + name + "=" + (str(value) if isinstance(value, int) else '"' + value + '"')
    return inner


def base_of(lines, components, params):
    return "\n".join(lines + ['"@signature-params": ' + params_text(components, params)])


def request_vector(vid, requirements, seed, node, method, authority, path, query, body, nonce, created, encoding=None):
    k, d, x = key(seed)
    headers = []
    wire = None
    if body is not None:
        wire = body
        headers.append(["content-type", "application/json"])
        if encoding == "gzip":
            wire = gzip.compress(body, compresslevel=9, mtime=0)
            headers.append(["content-encoding", "gzip"])
        headers.append(["content-digest", digest(wire)])
    components = ['"@method"', '"@authority"', '"@path"', '"@query"']
    lines = ['"@method": ' + method, '"@authority": ' + authority, '"@path": ' + path, '"@query": ?' + (query or "")]
    if body is not None:
        components += ['"content-type"', '"content-digest"']
        lines += ['"content-type": application/json', '"content-digest": ' + digest(wire)]
        if encoding:
            components.append('"content-encoding"')
            lines.append('"content-encoding": gzip')
    params = [("created", created), ("keyid", node), ("alg", "ed25519"), ("nonce", nonce), ("tag", "navette-sync-v1-req")]
    base = base_of(lines, components, params)
    sig = k.sign(base.encode())
    v = {
        "id": vid, "requirements": requirements, "source": "Navette signing profile (spec 8.1)",
        "privateKey": d, "publicKey": x,
        "request": {"method": method, "authority": authority, "path": path, "headers": headers},
        "label": "sync",
        "components": [c.strip('"') for c in components],
        "parameters": [[n, val] for n, val in params],
        "signatureBase": base,
        "signatureInput": "sync=" + params_text(components, params),
        "signature": "sync=:" + base64.b64encode(sig).decode() + ":",
    }
    if query is not None:
        v["request"]["query"] = query
    if wire is not None:
        v["request"]["bodyBase64"] = base64.b64encode(wire).decode()
    return v


def response_vector(vid, requirements, request, server_seed, status, body, nonce, created, expect="accept",
                    why=None, tamper=None):
    k, d, x = key(server_seed)
    rq = request["request"]
    req_lines = ['"@method";req: ' + rq["method"], '"@authority";req: ' + rq["authority"],
                 '"@path";req: ' + rq["path"], '"@query";req: ?' + rq.get("query", ""),
                 '"signature-input";req: ' + request["signatureInput"]]
    components = ['"@status"', '"content-type"', '"content-digest"', '"@method";req', '"@authority";req',
                  '"@path";req', '"@query";req', '"signature-input";req']
    ctype = "application/json" if status < 400 else "application/problem+json"
    lines = ['"@status": %d' % status, '"content-type": ' + ctype, '"content-digest": ' + digest(body)] + req_lines
    params = [("created", created), ("keyid", "server-test"), ("alg", "ed25519"), ("nonce", nonce),
              ("tag", "navette-sync-v1-res")]
    base = base_of(lines, components, params)
    signer = k
    if tamper == "other-key":
        signer, _, _ = key("an attacker's key")
    sig = signer.sign(base.encode())
    sent_body = body
    if tamper == "body":
        sent_body = body.replace(b"1", b"2", 1)
    v = {
        "id": vid, "requirements": requirements, "source": "Navette signing profile (spec 8.6)",
        "serverPublicKey": x, "serverKeyId": "server-test", "answering": request["id"],
        "response": {"status": status, "headers": [["content-type", ctype], ["content-digest", digest(body)]],
                     "bodyBase64": base64.b64encode(sent_body).decode()},
        "label": "sync",
        "signatureBase": base,
        "signatureInput": "sync=" + params_text(components, params),
        "signature": "sync=:" + base64.b64encode(sig).decode() + ":",
        "expect": expect,
    }
    if why:
        v["why"] = why
    return v


def signatures():
    old = json.loads((ROOT / "signatures.json").read_text())
    b26 = [v for v in old["vectors"] if v["id"] == "rfc9421-b2.6"][0]
    b26["requirements"] = ["SIG-004"]
    node = "00000000000000a1"
    push_body = canonical({"batch": "b-0001", "changes": [{
        "collection": "seeker", "field": "contact.phone", "id": node + "-7", "op": "set",
        "pred": [node + "-3"], "record": "6f1c5a52-0d1e-4b36-9d1a-6f4c2b8e9a10", "time": "019b8e4c10000000",
        "value": "0611223344"}], "schemaVersion": 1}).encode()
    push = request_vector("navette-push", ["SIG-004", "SIG-009"], "navette vector node a1", node, "POST",
                          "sync.example.org", "/v1/sync/push", None, push_body, "bm9uY2Utb2YtdGhlLXB1c2g", 1767600000)
    pull = request_vector("navette-pull", ["SIG-004"], "navette vector node a1", node, "GET", "sync.example.org:8443",
                          "/v1/sync/pull", "cursor=v1.aW5j.42.3.bWFj&limit=500", None, "bm9uY2Utb2YtdGhlLXB1bGw", 1767600060)
    gz = request_vector("navette-push-gzip", ["SIG-004", "ENC-007"], "navette vector node a1", node, "POST",
                        "sync.example.org", "/v1/sync/push", None, push_body * 1, "bm9uY2Utb2YtdGhlLWd6aXA", 1767600120,
                        encoding="gzip")
    enrol_node = "1f0c9a7e5b3d2c41"
    enrol_key = key("navette vector enrolling node")
    enrol_body = canonical({"code": "K7Q4-9XWM-2LPD", "name": "Laptop 75-012-04", "node": enrol_node,
                            "publicKey": enrol_key[2], "schemaVersion": 1}).encode()
    enrol = request_vector("navette-enrol", ["SIG-004", "ENROL-003"], "navette vector enrolling node", enrol_node,
                           "POST", "sync.example.org", "/v1/enrol", None, enrol_body, "bm9uY2Utb2YtZW5yb2w", 1767600180)
    answer = canonical({"accepted": 1, "batch": "b-0001", "refused": []}).encode()
    ok = response_vector("navette-push-answer", ["SIG-012", "SIG-013"], push, "navette vector server", 200, answer,
                         "c2VydmVyLW5vbmNlLTAwMQ", 1767600001)
    other_key = response_vector("navette-answer-other-key", ["SIG-013", "ENROL-004"], push, "navette vector server",
                                200, answer, "c2VydmVyLW5vbmNlLTAwMg", 1767600001, expect="reject",
                                why="signed by a key the node did not pin", tamper="other-key")
    replayed = response_vector("navette-answer-to-another-request", ["SIG-013"], push, "navette vector server", 200,
                               answer, "c2VydmVyLW5vbmNlLTAwMw", 1767600001, expect="reject",
                               why="a genuine answer to the push, presented as the answer to the pull")
    replayed["answering"] = pull["id"]
    altered = response_vector("navette-answer-altered-body", ["SIG-013"], push, "navette vector server", 200, answer,
                              "c2VydmVyLW5vbmNlLTAwNA", 1767600001, expect="reject",
                              why="the body no longer matches its Content-Digest", tamper="body")
    return {
        "description": ("HTTP message signature vectors. Keys are raw Ed25519 keys in base64url (RFC 8037 'd' and "
                        "'x'); the Navette keys are SHA-256 of a phrase, for reproducibility only. Bases use \\n line "
                        "ends, no trailing newline. Request vectors give the exact base, Signature-Input and Signature. "
                        "Answer vectors say whether a node that pinned serverPublicKey and sent the request named by "
                        "'answering' must accept the answer or reject it (SIG-013). Generated by "
                        "tools/reference_vectors.py, independently of the Swift implementation."),
        "vectors": [b26, push, pull, gz, enrol, ok, other_key, replayed, altered],
    }


def encoding():
    vectors = []
    # ENC-004: canonical JSON, expected outputs written from the spec's rules.
    for vid, text, expected in [
        ("canonical-sorts-keys-by-utf8-bytes", '{"z":1,"Z":2,"é":3,"a":{"b":[1, 2],"a":null}}',
         '{"Z":2,"a":{"a":null,"b":[1,2]},"z":1,"é":3}'),
        ("canonical-astral-after-bmp", '{"\\ud83d\\ude00":1,"\\ufffd":2}', '{"\ufffd":2,"\U0001f600":1}'),
        ("canonical-minimal-escapes", '["\\u00e9\\/", "\\u0001\\u001f", "a\\"b\\\\c", "\\n\\r\\t\\b\\f", "\\u2028"]',
         '["é/","\\u0001\\u001f","a\\"b\\\\c","\\n\\r\\t\\b\\f","\u2028"]'),
        ("canonical-integers", '[0, -0, 17, -42, 9223372036854775807, -9223372036854775808]',
         '[0,0,17,-42,9223372036854775807,-9223372036854775808]'),
        ("canonical-other-numbers-kept-as-written", '[1.50, 1e2, 9223372036854775808]', '[1.50,1e2,9223372036854775808]'),
        ("canonical-whitespace-removed", ' { "a" : [ true , false , null ] } ', '{"a":[true,false,null]}'),
        ("canonical-32-levels-accepted", "[" * 32 + "]" * 32, "[" * 32 + "]" * 32),
    ]:
        vectors.append({"id": vid, "requirements": ["ENC-002", "ENC-004"] if "levels" in vid else ["ENC-004"],
                        "kind": "canonical", "input": text, "canonical": expected})
    for vid, text in [("refuse-duplicate-member", '{"a":1,"a":2}'), ("refuse-trailing-content", '{"a":1} x'),
                      ("refuse-deep-nesting", "[" * 33 + "]" * 33), ("refuse-lone-surrogate", '"\\ud800"'),
                      ("refuse-invalid-utf8-escape", '"\\uZZZZ"'), ("refuse-leading-zero", "[01]")]:
        vectors.append({"id": vid, "requirements": ["ENC-001", "ENC-002"] if "deep" in vid else ["ENC-001"],
                        "kind": "refuse-json", "input": text})
    # ENC-005: identifiers and times.
    for wall, counter in [(0, 0), (1767600000000, 2), (2**48 - 1, 65535)]:
        vectors.append({"id": "timestamp-%d-%d" % (wall, counter), "requirements": ["ENC-005"], "kind": "timestamp",
                        "wallMillis": wall, "counter": counter, "text": "%016x" % (wall << 16 | counter)})
    for text, valid in [("00000000000000a1-1", True), ("ffffffffffffffff-18446744073709551615", True),
                        ("00000000000000A1-1", False), ("00000000000000a1-01", False), ("00000000000000a1-", False),
                        ("0000000000000a1-1", False), ("00000000000000a1-1-2", False), ("00000000000000a1-+1", False)]:
        vectors.append({"id": "change-id-" + text, "requirements": ["ENC-005"], "kind": "change-id", "text": text,
                        "valid": valid})
    for text, valid in [("019b8e4c10000002", True), ("019B8E4C10000002", False), ("19b8e4c10000002", False),
                        ("019b8e4c1000000g", False)]:
        vectors.append({"id": "timestamp-text-" + text, "requirements": ["ENC-005"], "kind": "timestamp-text",
                        "text": text, "valid": valid})
    # SCH-001: registration ids.
    for session, seeker in [("6f1c5a52-0d1e-4b36-9d1a-6f4c2b8e9a10", "0b7e2d1c-8a4f-4e3b-9c2d-1a5f6e7d8c9b"),
                            ("a", "b"), ("session-é", "seeker\u00a0x")]:
        h = bytearray(hashlib.sha256(b"navette/registration/v1\0" + session.encode() + b"\0" + seeker.encode()).digest()[:16])
        h[6] = (h[6] & 0x0F) | 0x80
        h[8] = (h[8] & 0x3F) | 0x80
        hx = h.hex()
        vectors.append({"id": "registration-" + hashlib.sha1((session + seeker).encode()).hexdigest()[:8],
                        "requirements": ["SCH-001"], "kind": "registration", "session": session, "seeker": seeker,
                        "record": "-".join([hx[:8], hx[8:12], hx[12:16], hx[16:20], hx[20:]])})
    # SIG-009: Content-Digest.
    for body in [b"", b'{"a":1}', "{\"name\":\"Inès\"}".encode()]:
        vectors.append({"id": "digest-%d-bytes" % len(body), "requirements": ["SIG-009"], "kind": "content-digest",
                        "bodyBase64": base64.b64encode(body).decode(), "field": digest(body)})
    return {"description": ("Encoding vectors: canonical JSON (input -> canonical text), JSON a receiver must refuse, "
                            "timestamps, change ids, registration ids, Content-Digest. Generated by "
                            "tools/reference_vectors.py from the spec's rules."),
            "vectors": vectors}


def main():
    check = "--check" in sys.argv
    failures = 0
    for name, doc in [("signatures", signatures()), ("encoding", encoding())]:
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        path = ROOT / (name + ".json")
        if check:
            if path.read_text() != text:
                print(f"FAIL {path.name} differs from what tools/reference_vectors.py makes")
                failures += 1
        else:
            path.write_text(text)
            print(f"wrote {path.name}: {len(doc['vectors'])} vectors")
    sys.exit(1 if failures else 0)


main()
