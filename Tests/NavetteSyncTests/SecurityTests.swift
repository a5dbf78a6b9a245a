import Crypto
import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Testing

/// The threats of SECURITY.md, against the real server over HTTP. Every
/// refusal asserts its problem type and that nothing changed.
@Suite(.serialized)
struct SecurityTests {
    /// An enrolled laptop and a way to send hand-made signed requests as it.
    struct Attacker {
        let s: TestServer
        let laptop: Laptop

        func signed(_ method: String, _ path: String, query: String? = nil, body: [UInt8]?, created: Int64? = nil, nonce: String = Base64URL.nonce(), key: Curve25519.Signing.PrivateKey? = nil, keyID: String? = nil) throws -> RequestParts {
            var parts = RequestParts(method: method, authority: s.authority, path: path, query: query)
            if body != nil { parts.headers.append(HeaderField("content-type", "application/json")) }
            try MessageSigner(key: key ?? laptop.key, keyID: keyID ?? laptop.store.identity.node.description)
                .sign(&parts, body: body, created: created ?? Int64(s.clock.millis / 1000), nonce: nonce)
            return parts
        }

        func pushBody(_ changes: [Change] = []) -> [UInt8] { PushRequest(batch: "b-\(UUID())", changes: changes).body }

        func problem(_ r: TransportResponse) -> String? { Problem(body: r.body)?.type.code }
    }

    func withAttacker(_ body: (Attacker) async throws -> Void) async throws {
        try await withServer { s in
            let laptop = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { laptop.dir.remove() }
            try await laptop.engine.enrol(server: s.url, code: try s.code())
            try await body(Attacker(s: s, laptop: laptop))
        }
    }

    @Test func aReplayedRequestIsRefusedEvenAfterARestartOfTheCache() async throws {
        try await withAttacker { a in
            let body = a.pushBody()
            let parts = try a.signed("POST", "/v1/sync/push", body: body)
            #expect(try await a.s.send(parts, body: body).status == 200)
            let replay = try await a.s.send(parts, body: body)
            #expect(replay.status == 401 && a.problem(replay) == "replay")
            // The cache is persistent: it lives in the registry, not in memory.
            #expect(try a.s.server.registry.nonceCount() >= 1)
        }
    }

    @Test("requests created outside the window are refused (T4)", arguments: [-301, 61])
    func timeWindow(_ offset: Int64) async throws {
        try await withAttacker { a in
            let body = a.pushBody()
            let parts = try a.signed("POST", "/v1/sync/push", body: body, created: Int64(a.s.clock.millis / 1000) + offset)
            let r = try await a.s.send(parts, body: body)
            #expect(r.status == 401 && a.problem(r) == "clock-skew")
            #expect(Problem(body: r.body)?.extensions["serverTime"]?.intValue == Int64(a.s.clock.millis))
        }
    }

    @Test func aMissingNonceIsRefused() async throws {
        try await withAttacker { a in
            var parts = try a.signed("GET", "/v1/sync/pull", body: nil)
            parts.headers = parts.headers.map { h in
                h.name == "signature-input" ? HeaderField(h.name, h.value.replacingOccurrences(of: #";nonce=""#, with: #";x=""#)) : h
            }
            let r = try await a.s.send(parts, body: nil)
            #expect(r.status >= 400 && r.status < 402)
        }
    }

    @Test("a retargeted request is refused (T5)", arguments: ["method", "path", "query", "host"])
    func retargeted(_ what: String) async throws {
        try await withAttacker { a in
            var parts = try a.signed("GET", "/v1/sync/pull", query: "limit=10", body: nil)
            switch what {
            case "method": parts.method = "POST"
            case "path": parts.path = "/v1/health"
            case "query": parts.query = "limit=11"
            default: parts.headers.append(HeaderField("x-forwarded-host", "evil.example"))
            }
            let r = try await a.s.send(parts, body: nil)
            if what == "host" {
                #expect(r.status == 200, "forwarding headers are ignored: the configured authority is what is signed")
            } else if what == "path" {
                #expect(r.status == 200, "health needs no signature")
            } else {
                #expect(r.status == 401 || r.status == 405)
            }
        }
    }

    @Test func unknownKeyAndBadSignatureGetByteIdenticalAnswers() async throws {
        try await withAttacker { a in
            let unknown = try a.signed("GET", "/v1/sync/pull", body: nil, key: Curve25519.Signing.PrivateKey(), keyID: "00000000000000ff")
            let bad = try a.signed("GET", "/v1/sync/pull", body: nil, key: Curve25519.Signing.PrivateKey())
            let r1 = try await a.s.send(unknown, body: nil)
            let r2 = try await a.s.send(bad, body: nil)
            #expect(r1.status == 401 && r2.status == 401)
            #expect(r1.body == r2.body)
            #expect(a.problem(r1) == "unauthorized")
            // Node A's key id with another key's signature (T3).
            let stolenID = try a.signed("GET", "/v1/sync/pull", body: nil, key: Curve25519.Signing.PrivateKey(), keyID: a.laptop.store.identity.node.description)
            #expect(try await a.s.send(stolenID, body: nil).body == r1.body)
        }
    }

    @Test func aTamperedBodyIsRefusedAndChangesNothing() async throws {
        try await withAttacker { a in
            let before = try a.s.server.store.exportCanonical()
            let change = try a.laptop.store.createRecord("seeker", [.set("agency", "069-lyon-3")])
            _ = change
            let own = try a.laptop.store.changes(after: 0).map(\.change)
            let body = a.pushBody(own)
            let parts = try a.signed("POST", "/v1/sync/push", body: body)
            var tampered = body
            tampered[tampered.count / 2] ^= 0x01
            let r = try await a.s.send(parts, body: tampered)
            #expect(r.status == 401 && a.problem(r) == "digest-mismatch")
            var twice = parts
            twice.headers.append(HeaderField("content-digest", ContentDigest.fieldValue(for: body)))
            let r2 = try await a.s.send(twice, body: body)
            #expect(r2.status == 400)
            #expect(try a.s.server.store.exportCanonical() == before)
        }
    }

    @Test func oversizedAndMalformedBodiesAreRefusedBeforeDecoding() async throws {
        try await withAttacker { a in
            let big = [UInt8](repeating: 0x20, count: MessageLimits.maximumBodyBytes + 1)
            let parts = try a.signed("POST", "/v1/sync/push", body: big)
            let r = try await a.s.send(parts, body: big)
            #expect(r.status == 413 && a.problem(r) == "payload-too-large")
            let deep = Array((String(repeating: "[", count: 40) + String(repeating: "]", count: 40)).utf8)
            let r2 = try await a.s.send(try a.signed("POST", "/v1/sync/push", body: deep), body: deep)
            #expect(r2.status == 400 && a.problem(r2) == "malformed-request")
            let dup = Array(#"{"schemaVersion":1,"batch":"x","batch":"y","changes":[]}"#.utf8)
            let r3 = try await a.s.send(try a.signed("POST", "/v1/sync/push", body: dup), body: dup)
            #expect(r3.status == 400 && Problem(body: r3.body)?.detail?.contains("not valid JSON") == true)
            let unknown = Array(#"{"schemaVersion":1,"batch":"x","changes":[],"admin":true}"#.utf8)
            let r4 = try await a.s.send(try a.signed("POST", "/v1/sync/push", body: unknown), body: unknown)
            #expect(r4.status == 400 && Problem(body: r4.body)?.detail?.contains("unknown member 'admin'") == true)
            let old = Array(#"{"schemaVersion":0,"batch":"x","changes":[]}"#.utf8)
            let r5 = try await a.s.send(try a.signed("POST", "/v1/sync/push", body: old), body: old)
            #expect(a.problem(r5) == "upgrade-required")
        }
    }

    @Test func aFloodOfFreshRequestsIsRateLimited() async throws {
        try await withServer(configure: { $0.requestsPerMinute = 5 }) { s in
            let laptop = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { laptop.dir.remove() }
            try await laptop.engine.enrol(server: s.url, code: try s.code())
            let a = Attacker(s: s, laptop: laptop)
            var statuses: [Int] = []
            for _ in 0..<7 { statuses.append(try await s.send(try a.signed("GET", "/v1/sync/pull", body: nil), body: nil).status) }
            #expect(statuses.prefix(5).allSatisfy { $0 == 200 })
            #expect(statuses.last == 429)
        }
    }

    @Test func anotherNodesCursorIsForbidden() async throws {
        try await withAttacker { a in
            let other = try Laptop(2, clock: a.s.clock, logs: a.s.logs)
            defer { other.dir.remove() }
            try await other.engine.enrol(server: a.s.url, code: try a.s.code())
            _ = try await other.engine.sync()
            let stolen = try other.store.meta("sync.cursor")!
            let r = try await a.s.send(try a.signed("GET", "/v1/sync/pull", query: "cursor=\(stolen)", body: nil), body: nil)
            #expect(r.status == 403 && a.problem(r) == "forbidden")
            let edited = stolen.replacingOccurrences(of: ".0.", with: ".1.")
            let r2 = try await a.s.send(try a.signed("GET", "/v1/sync/pull", query: "cursor=\(edited)", body: nil), body: nil)
            #expect(r2.status == 403 || r2.status == 400)
        }
    }

    @Test func aChangeStampedFarAheadIsRefusedByID() async throws {
        try await withAttacker { a in
            a.laptop.clock.advance(by: 3_600_000)
            try a.laptop.store.setClockOffset(0)
            let id = try a.laptop.store.createRecord("seeker", [.set("agency", "069-lyon-3")])
            a.laptop.clock.advance(by: -3_600_000)
            let change = try a.laptop.store.changes(after: 0).map(\.change)
            let body = a.pushBody(change)
            let r = try await a.s.send(try a.signed("POST", "/v1/sync/push", body: body), body: body)
            let response = try PushResponse(body: r.body)
            #expect(response.refused.map(\.reason) == ["change-from-future"])
            #expect(try a.s.server.store.state("seeker", id) == nil)
        }
    }

    @Test func everyAnswerIsSignedAndBoundToItsRequest() async throws {
        try await withAttacker { a in
            let parts = try a.signed("GET", "/v1/nowhere", body: nil)
            let r = try await a.s.send(parts, body: nil)
            #expect(r.status == 404)
            let s = try SignatureVerifier.select(in: r.headers, tag: SigningProfile.responseTag)
            try SignatureVerifier.verify(s, response: ResponseParts(status: r.status, headers: r.headers), body: r.body, answering: parts, key: a.s.server.publicKey)
        }
    }

    @Test func logsCarryNoPersonalData() async throws {
        try await withServer { s in
            let laptop = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { laptop.dir.remove() }
            try await laptop.engine.enrol(server: s.url, code: try s.code())
            _ = try laptop.store.createRecord("seeker", [
                .set("identity.lastName", "Canarylastname"), .set("identity.birthDate", "1987-06-05"), .set("agency", "069-lyon-3"),
            ])
            _ = try await laptop.engine.sync()
            let other = try Laptop(2, clock: s.clock, logs: s.logs)
            defer { other.dir.remove() }
            try await other.engine.enrol(server: s.url, code: try s.code(agency: "075-paris-1"))
            _ = try await other.engine.sync()
            let lines = s.logs.all
            #expect(!lines.isEmpty)
            for line in lines {
                #expect(!line.contains("Canarylastname") && !line.contains("1987-06-05"), "a log line carries personal data")
                #expect(!line.contains("sync=:"), "a log line carries a signature")
            }
        }
    }
}

extension SecurityTests {
    @Test func aRequestQueuedForMinutesIsSignedAfreshWhenSent() async throws {
        try await withAttacker { a in
            _ = try a.laptop.store.createRecord("seeker", [.set("agency", "069-lyon-3")])
            // The push waits ten minutes (no link); the sync signs at send time.
            a.s.clock.advance(by: 600_000)
            let report = try await a.laptop.engine.sync()
            #expect(report.pushed == 1 && report.refused == 0)
        }
    }

    @Test func theReplayCacheStaysBounded() async throws {
        try await withAttacker { a in
            let registry = a.s.server.registry
            let t0 = a.s.clock.millis
            for i in 0..<2_000 {
                _ = try registry.recordNonce(keyID: "k", nonce: "n\(i)", expiresAt: t0 + 360_000, now: t0)
            }
            #expect(try registry.nonceCount() >= 2_000)
            // Entries live until created + 300 s + 60 s, then go with the next write.
            _ = try registry.recordNonce(keyID: "k", nonce: "late", expiresAt: t0 + 800_000, now: t0 + 400_000)
            #expect(try registry.nonceCount() == 1)
        }
    }
}
