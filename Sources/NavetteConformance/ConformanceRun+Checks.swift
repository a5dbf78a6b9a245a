import Crypto
import Foundation
import NavetteCore
import NavetteWire

/// The record ids the run creates (random, so that runs never collide).
struct RunRecords {
    static func uuid() -> String { UUID().uuidString.lowercased() }
    let followed = uuid()
    let unfollowed = uuid()
    let orphan = uuid()
    let bFile = uuid()
    let stubbed = uuid()
}

extension ConformanceRun {
    // MARK: - Discovery

    func discovery() async {
        await check("RES-002", "GET /v1/server-keys") {
            let (parts, _) = try request("GET", "/v1/server-keys")
            let reply = try await send(parts, body: nil)
            try expect(reply.status == 200, "answered \(reply.summary)")
            for k in reply.json?["keys"]?.arrayValue ?? [] {
                if k["alg"]?.stringValue == "ed25519", let id = k["keyid"]?.stringValue,
                    let raw = k["publicKey"]?.stringValue.flatMap(Base64URL.decode),
                    let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
                {
                    serverKeys[id] = key
                }
            }
            try expect(!serverKeys.isEmpty, "the document lists no Ed25519 key")
            // The document's own answer could not be checked before its keys were known.
            let s = try SignatureVerifier.select(in: reply.headers, tag: SigningProfile.responseTag)
            try expect(s.parameters.keyID.map { serverKeys[$0] != nil } == true, "its answer is signed by a key it does not list")
        }
        await check("RES-001", "GET /v1/health") {
            let (parts, _) = try request("GET", "/v1/health")
            let reply = try await send(parts, body: nil)
            try expect(reply.status == 200, "answered \(reply.summary)")
            try expect(reply.json?["status"]?.stringValue == "ok", "status is not \"ok\"")
            try expect(reply.json?["incarnation"]?.stringValue?.isEmpty == false, "no incarnation")
            // The server's clock, from its signed answer: the tool signs with it.
            let s = try SignatureVerifier.select(in: reply.headers, tag: SigningProfile.responseTag)
            if let created = s.parameters.created {
                offsetMillis = created * 1000 + 500 - Int64(Date().timeIntervalSince1970 * 1000)
            }
        }
    }

    // MARK: - Enrolment

    func enrolBody(_ p: Probe, code: String, schemaVersion: Int64 = 1) -> [UInt8] {
        JSONValue.object([
            "code": .string(code), "name": .string("conformance \(p.name)"), "node": .string(p.node.description),
            "publicKey": .string(p.publicKey), "schemaVersion": .int(schemaVersion),
        ]).canonicalBytes
    }

    /// Enrols a new node named `name` in agency `slot`.
    @discardableResult
    func enrol(_ name: String, agency slot: Int) async throws -> (Reply, EnrolmentTicket) {
        var p = Probe(name: name)
        probes[name] = p
        let ticket = try await admin.enrolmentCode(agency: slot)
        let (parts, wire) = try request("POST", "/v1/enrol", body: enrolBody(p, code: ticket.code), as: p)
        let reply = try await send(parts, body: wire)
        if reply.status == 200 {
            p.agency = reply.json?["agency"]?.stringValue ?? ticket.agency
            p.counsellor = reply.json?["counsellor"]?.stringValue
            probes[name] = p
        }
        return (reply, ticket)
    }

    func enrolment() async {
        var firstTicket: EnrolmentTicket?
        await check("ENROL-001", "a valid code enrols the node") {
            let (reply, ticket) = try await enrol("A1", agency: 0)
            firstTicket = ticket
            try expect(reply.status == 200, "answered \(reply.summary)")
            try expect(reply.json?["node"]?.stringValue == probes["A1"]?.node.description, "the answer names another node")
            try expect(reply.json?["agency"]?.stringValue == ticket.agency, "the answer names another agency than the code's")
            try expect(reply.json?["counsellor"]?.stringValue == ticket.counsellor, "the answer names another counsellor")
            let keys = reply.json?["serverKeys"]?.arrayValue?.compactMap { $0["keyid"]?.stringValue } ?? []
            try expect(keys.contains { serverKeys[$0] != nil }, "serverKeys does not hold the key that signs answers")
        }
        for (name, slot) in [("A2", 0), ("B1", 1), ("R", 0)] {
            do {
                let (reply, _) = try await enrol(name, agency: slot)
                if reply.status != 200 { log("setup: enrolling \(name) was answered \(reply.summary)") }
            } catch {
                log("setup: enrolling \(name) failed: \(error)")
            }
        }
        await check("ENROL-002", "a used code is refused") {
            guard let used = firstTicket else { throw CheckFailure("no code was redeemed") }
            let p = Probe(name: "again")
            let (parts, wire) = try request("POST", "/v1/enrol", body: enrolBody(p, code: used.code), as: p)
            try expectProblem(try await send(parts, body: wire), "enrolment-refused", "a second redemption")
        }
        await check("ENROL-002", "an unknown code is refused") {
            let p = Probe(name: "unknown")
            let (parts, wire) = try request("POST", "/v1/enrol", body: enrolBody(p, code: "conformance-no-such-code"), as: p)
            try expectProblem(try await send(parts, body: wire), "enrolment-refused", "an unknown code")
        }
        await check("VER-001", "an enrolment of schema version 2 is refused") {
            let p = Probe(name: "future")
            let (parts, wire) = try request(
                "POST", "/v1/enrol", body: enrolBody(p, code: "conformance-no-such-code", schemaVersion: 2), as: p)
            try expectProblem(try await send(parts, body: wire), "upgrade-required", "schemaVersion 2")
        }
        await check("ENROL-003", "an enrolment signed by another key, or with another keyid, is refused") {
            let ticket = try await admin.enrolmentCode(agency: 0)
            let p = Probe(name: "impostor")
            let other = Probe(name: "other")
            // Signed by a key other than the one registered.
            var parts = RequestParts(method: "POST", authority: authority, path: "/v1/enrol")
            parts.headers.append(HeaderField("content-type", "application/json"))
            let body = enrolBody(p, code: ticket.code)
            try MessageSigner(key: other.key, keyID: p.node.description).sign(
                &parts, body: body, created: serverMillis / 1000, nonce: Base64URL.nonce())
            try expectProblem(try await send(parts, body: body), "unauthorized", "a signature by another key")
            // Signed by the registered key, under another keyid.
            var parts2 = RequestParts(method: "POST", authority: authority, path: "/v1/enrol")
            parts2.headers.append(HeaderField("content-type", "application/json"))
            try MessageSigner(key: p.key, keyID: other.node.description).sign(
                &parts2, body: body, created: serverMillis / 1000, nonce: Base64URL.nonce())
            try expectProblem(try await send(parts2, body: body), "unauthorized", "a keyid that is not the node")
        }
    }

    // MARK: - Push

    /// The changes that create a seeker of `probe`'s agency followed by `referent`.
    func createSeeker(_ name: String, _ id: String, referent: String?) throws -> [JSONValue] {
        var p = try probe(name)
        var changes = [
            p.change("seeker", id, field: "agency", value: .string(p.agency), serverMillis: serverMillis),
            p.change("seeker", id, field: "identity.lastName", value: .string(canaries[0]), serverMillis: serverMillis),
        ]
        if let referent {
            changes.append(p.change("seeker", id, field: "referent", value: .string(referent), serverMillis: serverMillis))
        }
        probes[name] = p
        return changes
    }

    func change(
        _ name: String, _ collection: String, _ record: String, field: String? = nil, key: String? = nil, op: String = "set",
        value: JSONValue? = nil, pred: [String] = [], extra: [String: JSONValue] = [:], ahead: Int64 = 0
    ) throws -> JSONValue {
        var p = try probe(name)
        let c = p.change(
            collection, record, field: field, key: key, op: op, value: value, pred: pred, extra: extra,
            serverMillis: serverMillis, ahead: ahead)
        probes[name] = p
        return c
    }

    func pushing() async {
        await check("SYNC-001", "a push creating a followed seeker is applied") {
            let a1 = try probe("A1")
            let changes = try createSeeker("A1", records.followed, referent: a1.counsellor)
            let batch = Base64URL.nonce()
            let reply = try await push("A1", changes, batch: batch)
            let refused = try refusals(reply)
            try expect(refused.isEmpty, "changes were refused: \(refused.values.sorted())")
            try expect(reply.json?["accepted"]?.intValue == Int64(changes.count), "accepted is not \(changes.count)")
            try expect(reply.json?["batch"]?.stringValue == batch, "the answer names another batch")
            firstBatch = (batch, changes, reply.body)
        }
        await check("SYNC-002", "the same batch again gets the same answer") {
            guard let (batch, changes, body) = firstBatch else { throw CheckFailure("the first push failed") }
            let reply = try await push("A1", changes, batch: batch)
            try expect(reply.status == 200, "answered \(reply.summary)")
            try expect(reply.body == body, "the answer differs from the first")
        }
        await check("SYNC-003", "a push of 1,001 changes is refused") {
            var changes: [JSONValue] = []
            for i in 0..<1_001 {
                changes.append(try change("A1", "seeker", records.followed, field: "walkIns", op: "increment", value: .int(Int64(i % 2))))
            }
            try expectProblem(try await push("A1", changes), "malformed-request", "1,001 changes")
        }
        let reasons: [(String, String, () throws -> JSONValue)] = [
            ("SYNC-004", "not-own-change", {
                var other = try self.probe("A2")
                let c = other.change("seeker", self.records.followed, field: "contact.phone", value: "0100000000", serverMillis: self.serverMillis)
                return c
            }),
            ("SYNC-005", "collection-not-writable", {
                try self.change("A1", "agency", try self.probe("A1").agency, field: "name", value: "renamed")
            }),
            ("SYNC-006", "outside-agency", {
                try self.change("B1", "seeker", self.records.followed, field: "contact.phone", value: "0100000000")
            }),
            ("SCH-002", "outside-agency", {
                try self.change("A1", "seeker", self.records.orphan, field: "contact.phone", value: "0100000000")
            }),
            ("SYNC-007", "agency-change-not-allowed", {
                try self.change("A1", "seeker", self.records.followed, field: "agency", value: .string(try self.probe("B1").agency))
            }),
            ("SYNC-008", "change-from-future", {
                try self.change("A1", "seeker", self.records.followed, field: "contact.phone", value: "0100000000", ahead: 600_000)
            }),
        ]
        for (id, reason, make) in reasons {
            await check(id, "a change is refused as \(reason), the rest applied") {
                let pusher = id == "SYNC-006" ? "B1" : "A1"
                if id == "SYNC-006" {
                    // B1's own file, so that its good change has a record of its agency.
                    _ = try refusals(try await push("B1", try createSeeker("B1", records.bFile, referent: try probe("B1").counsellor)))
                }
                let bad = try make()
                let good = try change(pusher, "seeker", id == "SYNC-006" ? records.bFile : records.followed, field: "walkIns", op: "increment", value: 1)
                let reply = try await push(pusher, [bad, good])
                let refused = try refusals(reply)
                try expect(refused == [bad["id"]!.stringValue!: reason], "refused \(refused), expected only \(reason)")
                try expect(reply.json?["accepted"]?.intValue == 1, "accepted is not 1")
            }
        }
        await check("VER-001", "a push of schema version 2 is refused") {
            let c = try change("A1", "seeker", records.followed, field: "walkIns", op: "increment", value: 1)
            try expectProblem(try await push("A1", [c], schemaVersion: 2), "upgrade-required", "schemaVersion 2")
        }
    }

    // MARK: - Pull

    func pulling() async {
        await check("SYNC-016", "a bootstrap lists the view and sends every record of it") {
            let pages = try await pullAll("A2", bootstrap: true)
            let m = Self.mentions(pages, of: records.followed)
            try expect(m.view == 1, "the view does not list the followed seeker")
            try expect(m.snapshots == 1, "the followed seeker did not come as one snapshot")
            let view = pages.flatMap { $0["view"]?.arrayValue ?? [] }.compactMap { $0["record"]?.stringValue }
            let snapshots = Set(pages.flatMap { $0["snapshots"]?.arrayValue ?? [] }.compactMap { $0["record"]?.stringValue })
            try expect(Set(view).isSubset(of: snapshots), "records of the view came as no snapshot")
            earlyCursor = probes["A2"]?.cursor
        }
        await check("SYNC-014", "a node of the other agency receives nothing of the seeker") {
            let pages = try await pullAll("B1", bootstrap: true)
            let m = Self.mentions(pages, of: records.followed)
            try expect(m.changes.isEmpty && m.snapshots == 0 && m.view == 0, "the seeker reached the other agency")
        }
        await check("SYNC-010", "a change of A1 reaches A2 once, and never comes back to A1") {
            let c = try change("A1", "seeker", records.followed, field: "contact.phone", value: .string(canaries[1]))
            _ = try refusals(try await push("A1", [c]))
            let pages = try await pullAll("A2")
            let got = Self.mentions(pages, of: records.followed).changes.filter { $0["id"] == c["id"] }
            try expect(got.count == 1, "A2 received the change \(got.count) times")
            let own = try await pullAll("A1", bootstrap: true)
            let ownIDs = own.flatMap { $0["changes"]?.arrayValue ?? [] }.compactMap { $0["id"]?.stringValue }
            let a1 = try probe("A1").node.description
            try expect(!ownIDs.contains { $0.hasPrefix(a1) }, "A1 received its own changes")
        }
        await check("SYNC-010", "a pull respects its limit and says more") {
            var changes: [JSONValue] = []
            for _ in 0..<3 {
                changes.append(try change("A1", "seeker", records.followed, field: "walkIns", op: "increment", value: 1))
            }
            _ = try refusals(try await push("A1", changes))
            let first = try await pull("A2", limit: 1)
            try expect((first.json?["changes"]?.arrayValue?.count ?? 0) <= 1, "a page of limit 1 holds more changes")
            try expect(first.json?["more"]?.boolValue == true, "more is not true with changes waiting")
            var ids = Set(first.json?["changes"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
            for page in try await pullAll("A2") {
                for id in page["changes"]?.arrayValue?.compactMap({ $0["id"]?.stringValue }) ?? [] {
                    try expect(ids.insert(id).inserted, "the change \(id) came twice")
                }
            }
            try expect(Set(changes.compactMap { $0["id"]?.stringValue }).isSubset(of: ids), "changes were missing")
        }
        await check("SYNC-009", "bad query parameters are refused") {
            let a2 = try probe("A2")
            for query in ["limit=0", "limit=501", "limit=x", "colour=blue", "bootstrap=2", "bootstrap=1&cursor=\(a2.cursor ?? "x")", "cursor"] {
                let (parts, _) = try request("GET", "/v1/sync/pull", query: query, as: a2)
                try expectProblem(try await send(parts, body: nil), "malformed-request", "the query \(query.prefix(20))")
            }
        }
        await check("SYNC-011", "another node's cursor, or an altered one, is refused") {
            let a1 = try probe("A1")
            guard let cursor = probes["A2"]?.cursor else { throw CheckFailure("A2 holds no cursor") }
            let (parts, _) = try request("GET", "/v1/sync/pull", query: "cursor=\(cursor)", as: a1)
            let reply = try await send(parts, body: nil)
            try expectProblem(reply, "forbidden", "A2's cursor used by A1")
            var altered = Array(cursor)
            let i = altered.count - 2
            altered[i] = altered[i] == "A" ? "B" : "A"
            let (parts2, _) = try request("GET", "/v1/sync/pull", query: "cursor=\(String(altered))", as: try probe("A2"))
            let reply2 = try await send(parts2, body: nil)
            try expect(
                reply2.problem == "forbidden" || reply2.problem == "malformed-request",
                "an altered cursor was answered \(reply2.summary)")
        }
        await check("VER-002", "a change of a later version is accepted and relayed byte for byte") {
            let future = try change(
                "A1", "seeker", records.followed, field: "notes", op: "splice",
                value: ["at": 3, "insert": "x"], extra: ["x-later": ["depth": 2]])
            let refused = try refusals(try await push("A1", [future]))
            try expect(refused.isEmpty, "the change was refused: \(refused.values.sorted())")
            let got = Self.mentions(try await pullAll("A2"), of: records.followed).changes.filter { $0["id"] == future["id"] }
            try expect(got.count == 1, "A2 received it \(got.count) times")
            try expect(got[0].canonicalBytes == future.canonicalBytes, "it arrived changed")
        }
    }

    // MARK: - Views

    func views() async {
        await check("SYNC-014", "a seeker registered to a session A2's counsellor facilitates reaches A2 as a stub: identity and contact only") {
            let a1 = try probe("A1")
            guard let counsellor = try probe("A2").counsellor else { throw CheckFailure("A2 has no counsellor") }
            let seeker = records.stubbed, session = RunRecords.uuid()
            let registration = RecordKeys.registration(session: session, seeker: seeker)
            var changes = try createSeeker("A1", seeker, referent: "conformance-nobody")
            changes.append(try change("A1", "seeker", seeker, field: "notes", value: .string(canaries[1])))
            changes.append(try change("A1", "seeker", seeker, field: "contact.phone", value: "0100000000"))
            changes.append(try change("A1", "workshopSession", session, field: "agency", value: .string(a1.agency)))
            changes.append(try change("A1", "workshopSession", session, field: "facilitators", key: counsellor, value: true))
            changes.append(try change("A1", "registration", registration, field: "agency", value: .string(a1.agency)))
            changes.append(try change("A1", "registration", registration, field: "session", value: .string(session)))
            changes.append(try change("A1", "registration", registration, field: "seeker", value: .string(seeker)))
            let refused = try refusals(try await push("A1", changes))
            try expect(refused.isEmpty, "the setup was refused: \(refused.values.sorted())")
            let pages = try await pullAll("A2")
            let snapshots = pages.flatMap { $0["snapshots"]?.arrayValue ?? [] }.filter { $0["record"]?.stringValue == seeker }
            try expect(snapshots.count == 1, "the registered seeker came as \(snapshots.count) snapshots")
            try expect(snapshots[0]["stub"]?.boolValue == true, "the registered seeker did not come as a stub")
            let fields = (snapshots[0]["state"]?["s"]?.arrayValue ?? []).compactMap { $0["f"]?.stringValue }
            try expect(
                !fields.isEmpty && fields.allSatisfy { $0.hasPrefix("identity.") || $0.hasPrefix("contact.") },
                "the stub carries fields other than identity and contact")
            // Later changes: contact reaches the stub, notes do not.
            let note = try change("A1", "seeker", seeker, field: "notes", value: "more")
            let phone = try change("A1", "seeker", seeker, field: "contact.phone", value: "0200000000")
            _ = try refusals(try await push("A1", [note, phone]))
            let later = Self.mentions(try await pullAll("A2"), of: seeker).changes.compactMap { $0["id"] }
            try expect(later.contains(phone["id"]!), "a contact change did not reach the stub")
            try expect(!later.contains(note["id"]!), "a notes change reached a stub")
        }

        await check("SYNC-015", "a seeker entering A2's view comes as a snapshot, and leaving it as a drop") {
            let a2 = try probe("A2")
            guard let counsellor = a2.counsellor else { throw CheckFailure("A2 has no counsellor; its view holds no seeker") }
            _ = try refusals(try await push("A1", try createSeeker("A1", records.unfollowed, referent: "conformance-nobody")))
            let before = Self.mentions(try await pullAll("A2"), of: records.unfollowed)
            try expect(before.changes.isEmpty && before.snapshots == 0, "A2 received a seeker it does not follow (SYNC-014)")
            let follow = try change("A1", "seeker", records.unfollowed, field: "followers", key: counsellor, value: true)
            _ = try refusals(try await push("A1", [follow]))
            let first = try await pull("A2")
            try expect(
                Self.mentions([first.json ?? .null], of: records.unfollowed).snapshots == 1,
                "the seeker A2's counsellor now follows came as no snapshot")
            try expect(first.json?["more"]?.boolValue == true, "a page that changed the view does not say more")
            _ = try await pullAll("A2")
            let unfollow = try change(
                "A1", "seeker", records.unfollowed, field: "followers", key: counsellor, op: "remove",
                pred: [follow["id"]!.stringValue!])
            _ = try refusals(try await push("A1", [unfollow]))
            let after = Self.mentions(try await pullAll("A2"), of: records.unfollowed)
            try expect(after.drops == 1, "the seeker A2 no longer follows was not dropped")
            try expect(
                !after.changes.contains { $0["id"] == unfollow["id"] }, "A2 received a change of a seeker outside its view")
        }
    }
}
