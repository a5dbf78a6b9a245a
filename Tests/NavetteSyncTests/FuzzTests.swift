import Crypto
import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Testing

/// Hostile input: seeded mutations of valid requests — bodies, signature
/// fields, digests, queries — handed to the server's application, and of
/// valid answers and CLI arguments handed to the decoders. Nothing crashes;
/// every input gets a signed answer, a refusal is a problem of the right
/// status and changes nothing; the limits hold.
///
/// 3,000 inputs by default; `NAVETTE_FUZZ_INPUTS` or `NAVETTE_FULL=1`
/// (100,000) for more. `NAVETTE_SEED` replays a run.
@Suite(.serialized)
struct FuzzTests {
    static var inputs: Int {
        environmentInt("NAVETTE_FUZZ_INPUTS", default: ProcessEnvironment.value("NAVETTE_FULL") == "1" ? 100_000 : 3_000)
    }

    @Test func theServerAnswersEveryMutatedRequestWithASignedAnswerAndRefusalsChangeNothing() async throws {
        let seed = testSeed(0xF022_0001)
        let count = Self.inputs * 8 / 10
        print("fuzz: \(count) requests to the server from seed \(seed) (NAVETTE_SEED replays it)")
        var rng = SplitMix64(seed: seed)
        try await withServer(configure: { $0.requestsPerMinute = .max }) { s in
            let laptop = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { laptop.dir.remove() }
            try await laptop.engine.enrol(server: s.url, code: try s.code())
            let node = laptop.store.identity.node
            let signer = MessageSigner(key: laptop.key, keyID: node.description)
            // The corpus: real pushes of this laptop, a pull, an enrolment.
            var pushes: [[UInt8]] = []
            for i in 0..<4 {
                _ = try laptop.store.createRecord("seeker", [
                    .set("agency", "069-lyon-3"), .set("referent", "c1"), .set("identity.lastName", .string("Nom\(i)")),
                    .add("situation.flags", element: "rsa"), .increment("unansweredContactAttempts", by: 2),
                    .put("skills", key: "ROME:347:100381", ["level": 2, "source": "SELF"]),
                ])
            }
            let own = try laptop.store.ownChanges(after: 0, limit: 100).map(\.change)
            for k in 1...4 { pushes.append(PushRequest(batch: "corpus-\(k)", changes: Array(own.prefix(k * 6))).body) }
            let enrol = EnrolRequest(
                code: "ABCD-EFGH-JKLM", node: NodeID(rawValue: 0xE0), publicKey: Base64URL.encode(laptop.key.publicKey.rawRepresentation),
                name: "fuzz").body

            func request(_ method: String, _ path: String, query: String? = nil, body: [UInt8]?, sign: Bool = true) throws -> RequestParts {
                var parts = RequestParts(method: method, authority: s.authority, path: path, query: query)
                if body != nil { parts.headers.append(HeaderField("content-type", "application/json")) }
                if sign {
                    try signer.sign(&parts, body: body, created: Int64(s.clock.millis / 1000), nonce: Base64URL.nonce())
                }
                return parts
            }

            var statuses: [Int: Int] = [:]
            var refusedUnchanged = 0
            for n in 0..<count {
                let before = try s.server.store.lastSequence()
                let nodes = try s.server.registry.nodes().count
                var body: [UInt8]?
                var parts: RequestParts
                let target = rng.int(in: 0..<10)
                switch target {
                case 0...3:
                    // A push body mutated, validly signed: it reaches the decoder.
                    body = Mutator.mutate(rng.pick(pushes), using: &rng)
                    parts = try request("POST", "/v1/sync/push", body: body)
                case 4, 5:
                    // Signature fields mutated or replaced.
                    body = rng.pick(pushes)
                    parts = try request("POST", "/v1/sync/push", body: body)
                    let name = rng.chance(0.5) ? "signature-input" : "signature"
                    let i = parts.headers.firstIndex { $0.name == name }!
                    parts.headers[i].value = rng.chance(0.5)
                        ? String(decoding: Mutator.mutate(Array(parts.headers[i].value.utf8), using: &rng), as: UTF8.self)
                        : Mutator.headerValue(using: &rng)
                    if rng.chance(0.2) { parts.headers.append(parts.headers[i]) }
                case 6:
                    // The digest mutated.
                    body = rng.pick(pushes)
                    parts = try request("POST", "/v1/sync/push", body: body)
                    let i = parts.headers.firstIndex { $0.name == "content-digest" }!
                    parts.headers[i].value = String(decoding: Mutator.mutate(Array(parts.headers[i].value.utf8), using: &rng), as: UTF8.self)
                case 7:
                    // A pull query mutated.
                    let query = String(decoding: Mutator.mutate(Array("cursor=v1.abc.12.0.AAAA&limit=100".utf8), using: &rng), as: UTF8.self)
                        .filter { $0 != "\r" && $0 != "\n" && $0 != "#" && $0 != " " }
                    parts = try request("GET", "/v1/sync/pull", query: query, body: nil)
                case 8:
                    // An enrolment body mutated (signed by the key it names).
                    body = Mutator.mutate(enrol, using: &rng)
                    parts = try request("POST", "/v1/enrol", body: body)
                default:
                    // A compressed body that is not what it claims.
                    body = Mutator.mutate(BodyEncoding.compress(pushes[3]) ?? pushes[3], using: &rng)
                    parts = RequestParts(method: "POST", authority: s.authority, path: "/v1/sync/push")
                    parts.headers = [HeaderField("content-type", "application/json"), HeaderField("content-encoding", "gzip")]
                    try signer.sign(&parts, body: body, created: Int64(s.clock.millis / 1000), nonce: Base64URL.nonce())
                }
                let answer = await s.server.handle(IncomingRequest(parts: parts, body: body ?? []))
                let status = answer.parts.status
                statuses[status, default: 0] += 1
                let context = "input \(n) (target \(target)); NAVETTE_SEED=\(seed)"
                #expect(answer.parts.values("signature").count == 1, "an unsigned answer: \(context)")
                #expect(status < 500, "the server failed (\(status)): \(context)")
                if status >= 400 {
                    let problem = Problem(body: answer.body)
                    #expect(problem?.status == status, "a refusal that is not a problem of its status: \(context): \(String(decoding: answer.body.prefix(300), as: UTF8.self)) (\(answer.body.count) bytes)")
                    #expect(answer.body.count <= 1_024, "a refusal of \(answer.body.count) bytes (answers never echo requests): \(context)")
                    #expect(try s.server.store.lastSequence() == before, "a refused request changed the store: \(context)")
                    #expect(try s.server.registry.nodes().count == nodes, "a refused request changed the nodes: \(context)")
                    refusedUnchanged += 1
                }
            }
            print("fuzz: answers by status \(statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")
            #expect(refusedUnchanged > count / 2, "most mutations must be refused")
            #expect(statuses.keys.contains(200) && statuses.keys.contains(400) && statuses.keys.contains(401))

            // Limits hold: the replay cache forgets what can no longer pass the time window.
            #expect(try s.server.registry.nonceCount() >= count / 2)
            s.clock.advance(by: 15 * 60_000)
            let after = try request("GET", "/v1/sync/pull", query: "limit=1", body: nil)
            #expect(await s.server.handle(IncomingRequest(parts: after, body: [])).parts.status == 200)
            #expect(try s.server.registry.nonceCount() <= 2, "the replay cache keeps expired nonces")
            // And the laptop still syncs.
            #expect(try await laptop.engine.sync().pushed >= 0)
        }
    }

    @Test func theDecodersRefuseMutatedAnswersAndArgumentsWithoutCrashing() throws {
        let seed = testSeed(0xF022_0002)
        let count = Self.inputs * 2 / 10
        print("fuzz: \(count) decoder inputs from seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let change = Change(
            id: ChangeID(origin: NodeID(rawValue: 0xA1), counter: 3), time: Timestamp(wallMillis: 1_767_600_000_000, counter: 0),
            collection: "seeker", record: "r1", field: "contact.phone", operation: .set, value: "0611",
            pred: [ChangeID(origin: NodeID(rawValue: 0xB2), counter: 1)])
        var state = RecordState()
        state.apply(change)
        let corpus: [[UInt8]] = [
            Problem(.clockSkew, "the request was created outside the accepted window", extensions: ["serverTime": 1]).body,
            PushResponse(batch: "b", accepted: 3, refused: [RefusedChange(id: change.id, reason: "outside-agency")]).body,
            PullResponse(
                drops: [("seeker", "r2")], snapshots: [Snapshot(collection: "seeker", record: "r1", state: state, stub: false)],
                changes: [change], cursor: "v1.a.1.0.m", more: true
            ).body,
            EnrolResponse(node: NodeID(rawValue: 0xA1), agency: "069", counsellor: "c1", serverKeys: [ServerKey(keyID: "k", publicKey: "x")]).body,
            Array(change.encoded.utf8),
        ]
        var accepted = 0
        for _ in 0..<count {
            let bytes = Mutator.mutate(rng.pick(corpus), using: &rng)
            // Each decoder either reads the bytes or throws its own error; none traps.
            if Problem(body: bytes) != nil { accepted += 1 }
            if (try? PushResponse(body: bytes)) != nil { accepted += 1 }
            if (try? PullResponse(body: bytes)) != nil { accepted += 1 }
            if (try? EnrolResponse(body: bytes)) != nil { accepted += 1 }
            if (try? Change(encoded: bytes)) != nil { accepted += 1 }
            if let v = try? JSONValue(parsing: bytes), (try? RecordState(json: v)) != nil { accepted += 1 }
            // A CLI argument: FIELD=VALUE typed wrong in every way.
            let argument = String(decoding: Mutator.mutate(Array(rng.pick([
                "contact.phone=0611223344", "skills[ROME:347:100381].level=3", "unansweredContactAttempts+=2",
                "situation.flags-=rsa", "consents[smsReminders]=false", "interactions+={\"type\":\"call\"}",
            ]).utf8), using: &rng), as: UTF8.self)
            do {
                let assignment = try FieldAssignment(argument)
                _ = try assignment.edit(in: Schema.navette.collection("seeker")!, state: RecordState())
                accepted += 1
            } catch let e as FieldAssignment.Failure {
                #expect(!e.description.isEmpty)
            } catch {
                // Value validation happens later, in the store; these are its errors.
            }
        }
        print("fuzz: \(accepted) of \(count * 7) decodings accepted")
        #expect(accepted > 0 && accepted < count * 7)
    }

    /// Found by the fuzzer: a `Signature-Input` holding a line break made the
    /// answer's signature base impossible, and the answer went unsigned. It
    /// is now signed, bound to the request's target only.
    @Test func aSignatureInputWithALineBreakStillGetsASignedAnswer() async throws {
        try await withServer { s in
            var parts = RequestParts(method: "GET", authority: s.authority, path: "/v1/sync/pull")
            parts.headers = [
                HeaderField("signature-input", "sync=(\"@method\");created=1;keyid=\"a\"\n;tag=\"navette-sync-v1-req\""),
                HeaderField("signature", "sync=:AAAA:"),
            ]
            let answer = await s.server.handle(IncomingRequest(parts: parts, body: []))
            #expect(answer.parts.status >= 400 && answer.parts.status < 500)
            #expect(answer.parts.values("signature").count == 1, "the answer is unsigned")
            let s = try SignatureVerifier.select(in: answer.parts.headers, tag: SigningProfile.responseTag)
            try SignatureVerifier.checkResponseProfile(s, encoded: false, boundToSignature: false)
            #expect(!s.components.contains(CoveredComponent("signature-input", fromRequest: true)))
        }
    }

    /// Garbage on the socket: the HTTP layer may refuse it, but the server
    /// keeps answering everyone else.
    @Test func rawGarbageOnTheSocketDoesNotStopTheServer() async throws {
        let seed = testSeed(0xF022_0003)
        var rng = SplitMix64(seed: seed)
        try await withServer { s in
            let port = Int(s.url.split(separator: ":").last!)!
            let valid = Array("POST /v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".utf8)
            let count = max(50, Self.inputs / 30)
            print("fuzz: \(count) raw messages on the socket from seed \(seed)")
            for _ in 0..<count {
                let bytes = rng.chance(0.3)
                    ? (0..<rng.int(in: 1...3_000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    : Mutator.mutate(valid, using: &rng)
                try await RawSocket.send(bytes, port: port, wait: .milliseconds(40))
            }
            let laptop = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { laptop.dir.remove() }
            try await laptop.engine.enrol(server: s.url, code: try s.code())
            _ = try laptop.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("identity.lastName", "Nom")])
            #expect(try await laptop.engine.sync().pushed == 2, "the server stopped answering; NAVETTE_SEED=\(seed)")
        }
    }
}
