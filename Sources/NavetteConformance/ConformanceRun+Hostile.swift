import Crypto
import Foundation
import NavetteCore
import NavetteWire

extension ConformanceRun {
    /// Sends `body` as A1's signed push, as given (valid JSON or not).
    func pushRaw(_ body: [UInt8], gzip: Bool = false) async throws -> Reply {
        let (parts, wire) = try request("POST", "/v1/sync/push", body: body, as: try probe("A1"), gzip: gzip)
        return try await send(parts, body: wire)
    }

    /// A valid push body with one change, its text, for mutations.
    func validPushText() throws -> String {
        let c = try change("A1", "seeker", records.followed, field: "walkIns", op: "increment", value: 1)
        return JSONValue.object(["batch": .string(Base64URL.nonce()), "changes": [c], "schemaVersion": 1]).canonicalString
    }

    // MARK: - Encodings

    func encodings() async {
        await check("ENC-001", "invalid JSON, trailing content and a repeated member are refused") {
            let valid = try validPushText()
            let cases = [
                ("not JSON", "{\"batch\":"), ("trailing content", valid + "{}"),
                ("a repeated member", "{\"batch\":\"a\",\"batch\":\"b\"" + valid.dropFirst(valid.firstIndex(of: ",")!.utf16Offset(in: valid))),
                ("a top-level array", "[" + valid + "]"),
            ]
            for (what, text) in cases {
                try expectProblem(try await pushRaw(Array(text.utf8)), "malformed-request", what)
            }
        }
        await check("ENC-002", "nesting deeper than 32 levels is refused") {
            let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            let c = try change("A1", "seeker", records.followed, field: "contact.phone", value: "0")
            let text = JSONValue.object(["batch": "deep", "changes": [c], "schemaVersion": 1]).canonicalString
                .replacingOccurrences(of: "\"value\":\"0\"", with: "\"value\":" + deep)
            try expectProblem(try await pushRaw(Array(text.utf8)), "malformed-request", "40 levels")
        }
        await check("ENC-003", "an unknown member of a push is refused") {
            let text = try validPushText().replacingOccurrences(of: "{\"batch\"", with: "{\"priority\":1,\"batch\"")
            try expectProblem(try await pushRaw(Array(text.utf8)), "malformed-request", "a member 'priority'")
        }
        await check("ENC-005", "a change with a malformed id or time is refused") {
            for (member, bad) in [("id", "A1-1"), ("time", "yesterday"), ("id", "00000000000000a1-01")] {
                var c = try change("A1", "seeker", records.followed, field: "contact.phone", value: "0").objectValue!
                c[member] = .string(bad)
                let body = JSONValue.object(["batch": .string(Base64URL.nonce()), "changes": [.object(c)], "schemaVersion": 1])
                try expectProblem(try await pushRaw(body.canonicalBytes), "malformed-request", "\(member) \(bad)")
            }
        }
        await check("ENC-006", "a gzip push is accepted; another or a corrupt coding is refused") {
            let body = Array(try validPushText().utf8)
            let ok = try await pushRaw(body, gzip: true)
            try expect(ok.status == 200, "a gzip push was answered \(ok.summary)")
            for (coding, bytes) in [("br", body), ("gzip", Array("not a gzip stream at all".utf8))] {
                var (parts, _) = try request("POST", "/v1/sync/push", body: bytes, as: nil)
                parts.headers.append(HeaderField("content-encoding", coding))
                try probe("A1").signer.sign(&parts, body: bytes, created: serverMillis / 1000, nonce: Base64URL.nonce())
                try expectProblem(try await send(parts, body: bytes), "unsupported-media-type", "content-encoding \(coding)")
            }
        }
        await check("ENC-007", "the digest of a gzip body covers the compressed bytes") {
            let body = Array(try validPushText().utf8)
            let ok = try await pushRaw(body, gzip: true)
            try expect(ok.status == 200, "a gzip push digested over its compressed bytes was answered \(ok.summary)")
            // A digest of the inflated bytes does not match what was sent.
            let compressed = BodyEncoding.gzipped(body) ?? body
            var parts = RequestParts(method: "POST", authority: authority, path: "/v1/sync/push")
            parts.headers = [
                HeaderField("content-type", "application/json"), HeaderField("content-encoding", "gzip"),
                HeaderField("content-digest", ContentDigest.fieldValue(for: body)),
            ]
            try signKeepingDigest(&parts, as: try probe("A1"))
            try expectProblem(try await send(parts, body: compressed), "digest-mismatch", "a digest of the inflated body")
        }
        await check("ENC-008", "a body over 4 MiB and header fields over 16 KiB are refused") {
            let big = [UInt8](repeating: UInt8(ascii: " "), count: (4 << 20) + 1)
            let (parts, wire) = try request("POST", "/v1/sync/push", body: big, as: nil)
            try expectProblem(try await send(parts, body: wire), "payload-too-large", "4 MiB + 1 byte")
            let (parts2, _) = try request(
                "GET", "/v1/sync/pull", as: try probe("A1"),
                extraHeaders: [HeaderField("x-padding", String(repeating: "p", count: 17 << 10))])
            try expectProblem(try await send(parts2, body: nil), "headers-too-large", "17 KiB of header fields")
        }
        await check("CHG-001", "changes lacking a required member, or with a wrong type, are refused") {
            let cases: [(String, (inout [String: JSONValue]) -> Void)] = [
                ("no op", { $0["op"] = nil }), ("no record", { $0["record"] = nil }),
                ("set without field", { $0["field"] = nil }), ("set without value", { $0["value"] = nil }),
                ("increment of a string", { $0["op"] = "increment"; $0["value"] = "Zqxjconformance" }),
                ("append without key", { $0["op"] = "append" }), ("pred not an array", { $0["pred"] = "x" }),
                ("record of 129 bytes", { $0["record"] = .string(String(repeating: "r", count: 129)) }),
                ("a change that is a string", { $0 = ["not": "a change"] }),
            ]
            for (what, mutate) in cases {
                var c = try change("A1", "seeker", records.followed, field: "contact.phone", value: .string(canaries[0])).objectValue!
                mutate(&c)
                let item: JSONValue = what == "a change that is a string" ? "Zqxjconformance" : .object(c)
                let body = JSONValue.object(["batch": .string(Base64URL.nonce()), "changes": [item], "schemaVersion": 1])
                try expectProblem(try await pushRaw(body.canonicalBytes), "malformed-request", what)
            }
        }
    }

    /// Signs a request whose `content-digest` is already set, keeping it.
    func signKeepingDigest(_ parts: inout RequestParts, as p: Probe, components: [CoveredComponent]? = nil, tag: String = SigningProfile.requestTag) throws {
        let covered = components ?? SigningProfile.requestComponents(hasBody: true, encoded: !parts.values("content-encoding").isEmpty)
        let params = SignatureParameters(
            created: serverMillis / 1000, keyID: p.node.description, algorithm: "ed25519", nonce: Base64URL.nonce(), tag: tag)
        let base = try SignatureBase.request(parts, covering: covered, parameters: params)
        let signature = try p.key.signature(for: Data(base.utf8))
        parts.headers += [
            HeaderField("signature-input", "sync=" + (try params.serialized(covering: covered))),
            HeaderField("signature", "sync=:\(signature.base64EncodedString()):"),
        ]
    }

    /// A pull request of A1 signed with the given parameters and components.
    func pullSigned(
        _ p: Probe, components: [CoveredComponent] = SigningProfile.requestComponents(hasBody: false),
        parameters: SignatureParameters, key: Curve25519.Signing.PrivateKey? = nil, authority: String? = nil
    ) throws -> RequestParts {
        var parts = RequestParts(method: "GET", authority: authority ?? self.authority, path: "/v1/sync/pull", query: "limit=1")
        let base = try SignatureBase.request(parts, covering: components, parameters: parameters)
        let signature = try (key ?? p.key).signature(for: Data(base.utf8))
        parts.headers += [
            HeaderField("signature-input", "sync=" + (try parameters.serialized(covering: components))),
            HeaderField("signature", "sync=:\(signature.base64EncodedString()):"),
        ]
        // The authority travels as the URL's: the signed one may differ.
        parts.authority = self.authority
        return parts
    }

    func parameters(
        _ p: Probe, created: Int64? = nil, nonce: String? = Base64URL.nonce(), alg: String? = "ed25519",
        tag: String? = SigningProfile.requestTag, keyID: String? = nil
    ) -> SignatureParameters {
        SignatureParameters(
            created: created ?? serverMillis / 1000, keyID: keyID ?? p.node.description, algorithm: alg, nonce: nonce, tag: tag)
    }

    // MARK: - Signatures

    func signatures() async {
        await check("SIG-001", "unsigned, and signed without the request tag, are refused") {
            let (parts, _) = try request("GET", "/v1/sync/pull")
            try expectProblem(try await send(parts, body: nil), "unauthorized", "an unsigned pull")
            let a1 = try probe("A1")
            let other = try pullSigned(a1, parameters: parameters(a1, tag: "another-profile"))
            try expectProblem(try await send(other, body: nil), "unauthorized", "a signature tagged another-profile")
        }
        await check("SIG-002", "a signature not covering content-digest is refused") {
            let a1 = try probe("A1")
            let body = Array(try validPushText().utf8)
            var parts = RequestParts(method: "POST", authority: authority, path: "/v1/sync/push")
            parts.headers = [
                HeaderField("content-type", "application/json"), HeaderField("content-digest", ContentDigest.fieldValue(for: body)),
            ]
            try signKeepingDigest(&parts, as: a1, components: SigningProfile.requestComponents(hasBody: false) + [CoveredComponent("content-type")])
            try expectProblem(try await send(parts, body: body), "unauthorized", "content-digest not covered")
        }
        await check("SIG-003", "no nonce, a short nonce, no created, or another alg is refused") {
            let a1 = try probe("A1")
            let cases: [(String, SignatureParameters)] = [
                ("no nonce", parameters(a1, nonce: nil)), ("an 8-character nonce", parameters(a1, nonce: "abcdefgh")),
                ("alg rsa-pss-sha512", parameters(a1, alg: "rsa-pss-sha512")),
                ("no created", SignatureParameters(created: nil, keyID: a1.node.description, algorithm: "ed25519", nonce: Base64URL.nonce(), tag: SigningProfile.requestTag)),
            ]
            for (what, params) in cases {
                try expectProblem(try await send(try pullSigned(a1, parameters: params), body: nil), "unauthorized", what)
            }
        }
        await check("SIG-004", "a covered field on two lines is refused") {
            let a1 = try probe("A1")
            let body = Array(try validPushText().utf8)
            var parts = RequestParts(method: "POST", authority: authority, path: "/v1/sync/push")
            parts.headers = [
                HeaderField("content-type", "application/json"), HeaderField("content-type", "application/json"),
                HeaderField("content-digest", ContentDigest.fieldValue(for: body)),
            ]
            // The base joins nothing: sign it as if the field were on one line.
            var signed = parts
            signed.headers.remove(at: 1)
            try signKeepingDigest(&signed, as: a1)
            parts.headers += signed.headers.filter { $0.name.hasPrefix("signature") }
            try expectProblem(try await send(parts, body: body), "malformed-request", "content-type on two lines")
        }
        await check("SIG-005", "a request signed for another authority is refused") {
            let a1 = try probe("A1")
            let parts = try pullSigned(a1, parameters: parameters(a1), authority: "sync.elsewhere.example")
            try expectProblem(try await send(parts, body: nil), "unauthorized", "authority sync.elsewhere.example")
        }
        await check("SIG-006", "a request created outside the window is clock-skew with serverTime") {
            let a1 = try probe("A1")
            for (what, shift) in [("400 s behind", Int64(-400)), ("120 s ahead", Int64(120))] {
                let parts = try pullSigned(a1, parameters: parameters(a1, created: serverMillis / 1000 + shift))
                let reply = try await send(parts, body: nil)
                try expectProblem(reply, "clock-skew", what)
                let serverTime = reply.json?["serverTime"]?.intValue ?? 0
                try expect(abs(serverTime - serverMillis) < 5_000, "serverTime is not the server's time in milliseconds")
            }
        }
        await check("SIG-007", "the same nonce twice is replay") {
            let a1 = try probe("A1")
            let parts = try pullSigned(a1, parameters: parameters(a1))
            let first = try await send(parts, body: nil)
            try expect(first.status == 200, "the first request was answered \(first.summary)")
            try expectProblem(try await send(parts, body: nil), "replay", "the same signed request again")
        }
        await check("SIG-008", "a challenge nonce is accepted once whatever created") {
            let a1 = try probe("A1")
            let (cparts, _) = try request("POST", "/v1/auth/challenge")
            let reply = try await send(cparts, body: nil)
            try expect(reply.status == 200, "the challenge was answered \(reply.summary)")
            guard let nonce = reply.json?["nonce"]?.stringValue else { throw CheckFailure("the challenge has no nonce") }
            let accept = reply.headers.first { $0.name == "accept-signature" }?.value ?? ""
            try expect(accept.contains(nonce) && accept.contains(SigningProfile.requestTag), "Accept-Signature does not name the nonce and tag")
            let stale = serverMillis / 1000 - 3 * 86_400
            let parts = try pullSigned(a1, parameters: parameters(a1, created: stale, nonce: nonce))
            let ok = try await send(parts, body: nil)
            try expect(ok.status == 200, "a request three days old signed with the challenge was answered \(ok.summary)")
            let again = try pullSigned(a1, parameters: parameters(a1, created: stale + 1, nonce: nonce))
            try expectProblem(try await send(again, body: nil), "replay", "the challenge used twice")
        }
        await check("SIG-009", "a digest that does not match, or without sha-256, is refused") {
            let a1 = try probe("A1")
            let body = Array(try validPushText().utf8)
            let sha512 = ":" + Data(SHA512.hash(data: body)).base64EncodedString() + ":"
            for (what, digest) in [
                ("a digest of other bytes", ContentDigest.fieldValue(for: Array("other".utf8))), ("only sha-512", "sha-512=" + sha512),
            ] {
                var parts = RequestParts(method: "POST", authority: authority, path: "/v1/sync/push")
                parts.headers = [HeaderField("content-type", "application/json"), HeaderField("content-digest", digest)]
                try signKeepingDigest(&parts, as: a1)
                try expectProblem(try await send(parts, body: body), "digest-mismatch", what)
            }
        }
        await check("SIG-010", "an unknown key and a bad signature get the same answer") {
            let a1 = try probe("A1")
            let stranger = Probe(name: "stranger")
            let unknown = try await send(try pullSigned(stranger, parameters: parameters(stranger)), body: nil)
            let forged = try await send(try pullSigned(a1, parameters: parameters(a1), key: stranger.key), body: nil)
            try expectProblem(unknown, "unauthorized", "an unknown key")
            try expectProblem(forged, "unauthorized", "a signature by another key")
            try expect(unknown.body == forged.body, "the two problem bodies differ")
        }
        await check("SIG-011", "oversized, malformed and repeated signature fields are refused") {
            let a1 = try probe("A1")
            var big = try pullSigned(a1, parameters: parameters(a1))
            let index = big.headers.firstIndex { $0.name == "signature-input" }!
            big.headers[index].value += ", pad=(\"@method\");tag=\"" + String(repeating: "p", count: 2_100) + "\""
            try expectProblem(try await send(big, body: nil), "headers-too-large", "a Signature-Input of 2 KiB")
            var garbled = try pullSigned(a1, parameters: parameters(a1))
            garbled.headers[index].value = "sync=(\"@method\" garbage"
            try expectProblem(try await send(garbled, body: nil, bound: false), "malformed-signature", "a garbled Signature-Input")
            var twice = try pullSigned(a1, parameters: parameters(a1))
            twice.headers[index].value += ", " + twice.headers[index].value
            try expectProblem(try await send(twice, body: nil, bound: false), "malformed-signature", "a repeated label")
        }
    }

    // MARK: - Errors

    func errors() async {
        await check("ERR-002", "an unknown path and a wrong method are refused") {
            let (nowhere, _) = try request("GET", "/v1/nowhere")
            try expectProblem(try await send(nowhere, body: nil), "not-found", "GET /v1/nowhere")
            let (delete, _) = try request("DELETE", "/v1/sync/push")
            try expectProblem(try await send(delete, body: nil), "method-not-allowed", "DELETE /v1/sync/push")
            let (get, _) = try request("GET", "/v1/enrol")
            try expectProblem(try await send(get, body: nil), "method-not-allowed", "GET /v1/enrol")
        }
    }

    // MARK: - Admin actions

    func administration() async {
        guard admin.canAdminister else {
            for id in ["ENROL-005", "SYNC-013", "SYNC-017"] {
                record(id, .notRun("needs admin actions: run against a data directory (--data)"))
            }
            return
        }
        await check("ENROL-005", "a revoked node's push and pull are refused") {
            let r = try probe("R")
            try await admin.revoke(node: r.node.description)
            let (parts, _) = try request("GET", "/v1/sync/pull", query: "bootstrap=1", as: r)
            try expectProblem(try await send(parts, body: nil), "node-revoked", "a pull")
            let reply = try await push("R", [])
            try expectProblem(reply, "node-revoked", "a push")
        }
        await check("SYNC-017", "an erased seeker is dropped, and later changes to it are swallowed") {
            try await admin.erase(seeker: records.followed)
            let pages = try await pullAll("A2")
            try expect(Self.mentions(pages, of: records.followed).drops == 1, "A2 was not told to drop the erased seeker")
            let late = try change("A1", "seeker", records.followed, field: "contact.phone", value: .string(canaries[1]))
            let reply = try await push("A1", [late])
            try expect(try refusals(reply).isEmpty, "a change to the erased seeker was refused")
            try expect(reply.json?["accepted"]?.intValue == 1, "a change to the erased seeker was not acknowledged")
            let after = Self.mentions(try await pullAll("A2"), of: records.followed)
            try expect(after.changes.isEmpty && after.snapshots == 0, "something of the erased seeker was sent again")
        }
        await check("SYNC-013", "a cursor older than the compacted history is cursor-expired") {
            guard let early = earlyCursor else { throw CheckFailure("A2 kept no early cursor") }
            // Every change so far must lie before the compaction's cutoff.
            try await Task.sleep(for: .seconds(2))
            try await admin.compactHistory()
            let (parts, _) = try request("GET", "/v1/sync/pull", query: "cursor=\(early)", as: try probe("A2"))
            let reply = try await send(parts, body: nil)
            try expectProblem(reply, "cursor-expired", "an early cursor after compaction")
            try expect(reply.json?["reason"]?.stringValue == "compacted", "the reason is not compacted")
            let pages = try await pullAll("A2", bootstrap: true)
            try expect(!pages.isEmpty, "A2 could not bootstrap again")
        }
    }
}
