import Crypto
import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Testing

/// Nodes and a server over real HTTP on 127.0.0.1.
@Suite(.serialized)
struct EndToEndTests {
    @Test(arguments: Backend.available) func twoLaptopsEnrolSyncAndConverge(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let a = try Laptop(1, clock: s.clock, logs: s.logs)
            let b = try Laptop(2, clock: s.clock, logs: s.logs)
            defer { a.dir.remove(); b.dir.remove() }
            let enrolled = try await a.engine.enrol(server: s.url, code: try s.code(counsellor: "c1"))
            #expect(enrolled.agency == "069-lyon-3")
            #expect(a.store.identity.agency == "069-lyon-3" && a.store.identity.counsellor == "c1")
            try await b.engine.enrol(server: s.url, code: try s.code(counsellor: "c2"))

            let id = try a.store.createRecord("seeker", [
                .set("identity.lastName", "Moreau"), .set("agency", "069-lyon-3"), .set("referent", "c1"),
                .add("followers", element: "c2"),
            ])
            let first = try await a.engine.sync()
            #expect(first.pushed == 4 && first.refused == 0)
            #expect(first.pulled == 0 && first.snapshots == 0, "the server never sends a node its own changes")
            let second = try await b.engine.sync()
            #expect(second.snapshots == 1, "the file enters c2's view whole")
            #expect(try b.store.state("seeker", id) != nil)

            try a.store.edit("seeker", id, [.set("contact.phone", "0111")])
            try b.store.edit("seeker", id, [.set("contact.phone", "0122")])
            _ = try await a.engine.sync()
            _ = try await b.engine.sync()
            _ = try await a.engine.sync()
            #expect(try a.store.exportCanonical() == b.store.exportCanonical())
            #expect(try await a.store.exportCanonical() == s.server.records.exportAll())
            #expect(try a.store.conflicts().count == 1)

            // b pushed its edit, then pulled a's. With nothing left to push,
            // its next search for what to push starts after what it pulled.
            let pulledTo = try b.store.lastSequence()
            #expect(try b.store.checkpoint(peer: SyncEngine.serverPeer) < pulledTo)
            #expect(try await b.engine.sync().roundTrips == 1)
            #expect(try b.store.checkpoint(peer: SyncEngine.serverPeer) == pulledTo)
        }
    }

    @Test(arguments: Backend.available) func aNoOpSyncIsOneSmallRoundTrip(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let a = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { a.dir.remove() }
            try await a.engine.enrol(server: s.url, code: try s.code())
            _ = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3")])
            _ = try await a.engine.sync()
            let noop = try await a.engine.sync()
            #expect(noop.roundTrips == 1)
            #expect(noop.pushed == 0 && noop.pulled == 0)
            print("no-op sync: \(noop.bytesSent) bytes sent, \(noop.bytesReceived) received")
            #expect(noop.bytesSent + noop.bytesReceived < 2_048)
        }
    }

    @Test(arguments: Backend.available) func aLaptopSeesOnlyItsAgencyAndCannotWriteAnother(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let a = try Laptop(1, clock: s.clock, logs: s.logs)
            let b = try Laptop(2, clock: s.clock, logs: s.logs)
            defer { a.dir.remove(); b.dir.remove() }
            try await a.engine.enrol(server: s.url, code: try s.code(agency: "069-lyon-3"))
            try await b.engine.enrol(server: s.url, code: try s.code(agency: "075-paris-1"))
            let lyon = try a.store.createRecord("seeker", [.set("identity.lastName", "Lyon"), .set("agency", "069-lyon-3")])
            _ = try await a.engine.sync()
            let paris = try await b.engine.sync()
            #expect(paris.pulled == 0, "a Paris laptop must not receive Lyon's files")
            #expect(try b.store.state("seeker", lyon) == nil)
            // B writes one change into Lyon's record (forged) and one of its own.
            try b.store.edit("seeker", lyon, [.set("contact.phone", "0100")])
            let own = try b.store.createRecord("seeker", [.set("identity.lastName", "Paris"), .set("agency", "075-paris-1")])
            let report = try await b.engine.sync()
            #expect(report.refused == 1 && report.pushed == 2)
            #expect(try b.store.parkedChanges().map(\.reason) == ["outside-agency"])
            #expect(try await s.server.records.state(RecordRef("seeker", own)) != nil)
            let serverPhone = try await s.server.records.state(RecordRef("seeker", lyon))!.view(of: Schema.navette.field("seeker", "contact.phone")!)
            #expect(serverPhone.isEmpty, "nothing of the refused change was applied")
            // Moving a record to another agency is refused too.
            try b.store.edit("seeker", own, [.set("agency", "069-lyon-3")])
            let moved = try await b.engine.sync()
            #expect(moved.refused == 1)
            #expect(try b.store.parkedChanges().map(\.reason).sorted() == ["agency-change-not-allowed", "outside-agency"])
        }
    }

    @Test(arguments: Backend.available) func aRevokedLaptopIsRefusedAndPurgesItsData(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let a = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { a.dir.remove() }
            try await a.engine.enrol(server: s.url, code: try s.code())
            _ = try a.store.createRecord("seeker", [.set("identity.lastName", "Qzxwvrevoked"), .set("agency", "069-lyon-3")])
            _ = try await a.engine.sync()
            #expect(try await s.server.shared.revoke(a.store.identity.node, actor: "admin", now: s.clock.millis))
            await #expect {
                _ = try await a.engine.sync()
            } throws: { ($0 as? SyncError)?.code == .revoked }
            #expect(try a.store.list("seeker").isEmpty)
            #expect(try a.store.status().changes == 0)
            try a.store.truncateWAL()
            #expect(try filesContaining("Qzxwvrevoked", under: a.path).isEmpty)
            // And it stays stopped.
            await #expect {
                _ = try await a.engine.sync()
            } throws: { ($0 as? SyncError)?.code == .revoked }
        }
    }

    @Test(arguments: Backend.available) func aLaptopWhoseClockIsDaysOffLearnsTheOffsetAndSyncs(_ backend: Backend) async throws {
        let serverClock = ManualClock(millis: 1_767_600_000_000)
        try await withServer(backend: backend, clock: serverClock) { s in
            let laptopClock = ManualClock(millis: serverClock.millis - 3 * 86_400_000)
            let a = try Laptop(1, clock: laptopClock, logs: s.logs)
            defer { a.dir.remove() }
            try await a.engine.enrol(server: s.url, code: try s.code())
            #expect(abs(a.store.clockOffset - 3 * 86_400_000) < 2_000)
            let id = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", "c1")])
            let report = try await a.engine.sync()
            #expect(report.refused == 0)
            let stamp = try #require(try a.store.changes(after: 0).last).change.time.wallMillis
            #expect(abs(Int64(stamp) - Int64(serverClock.millis)) < 120_000, "changes are stamped with corrected time")
            #expect(try await s.server.records.state(RecordRef("seeker", id)) != nil)
        }
    }

    @Test(arguments: Backend.available) func enrolmentCodesAreOneTimeShortLivedAndNeedTheKey(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let a = try Laptop(1, clock: s.clock, logs: s.logs)
            let b = try Laptop(2, clock: s.clock, logs: s.logs)
            let c = try Laptop(3, clock: s.clock, logs: s.logs)
            defer { a.dir.remove(); b.dir.remove(); c.dir.remove() }
            let code = try await s.code()
            try await a.engine.enrol(server: s.url, code: code)
            await #expect {
                try await b.engine.enrol(server: s.url, code: code)
            } throws: { ($0 as? SyncError)?.problem == "enrolment-refused" }
            let shortLived = try await s.code(validFor: 60_000)
            s.clock.advance(by: 61_000)
            await #expect {
                try await b.engine.enrol(server: s.url, code: shortLived)
            } throws: { ($0 as? SyncError)?.problem == "enrolment-refused" }
            // A proof signed by another key than the one registered.
            var parts = RequestParts(method: "POST", authority: s.authority, path: "/v1/enrol", headers: [HeaderField("content-type", "application/json")])
            let body = EnrolRequest(code: try await s.code(), node: c.store.identity.node, publicKey: Base64URL.encode(c.key.publicKey.rawRepresentation), name: "c").body
            try MessageSigner(key: Curve25519.Signing.PrivateKey(), keyID: c.store.identity.node.description)
                .sign(&parts, body: body, created: Int64(s.clock.millis / 1000), nonce: Base64URL.nonce())
            let reply = try await s.send(parts, body: body)
            #expect(reply.status == 401)
            #expect(try await s.server.shared.node(c.store.identity.node) == nil)
        }
    }
}

extension EndToEndTests {
    @Test(arguments: Backend.available) func aLaptopAheadOfTimeReStampsRefusedChangesAndSendsThemAgain(_ backend: Backend) async throws {
        let serverClock = ManualClock(millis: 1_767_600_000_000)
        try await withServer(backend: backend, clock: serverClock) { s in
            let laptopClock = ManualClock(millis: serverClock.millis)
            let a = try Laptop(1, clock: laptopClock, logs: s.logs)
            defer { a.dir.remove() }
            try await a.engine.enrol(server: s.url, code: try s.code())
            // The laptop's clock jumps an hour ahead and it edits before syncing.
            laptopClock.advance(by: 3_600_000)
            let id = try a.store.createRecord("seeker", [.set("identity.lastName", "Avance"), .set("agency", "069-lyon-3"), .set("referent", "c1")])
            let report = try await a.engine.sync()
            #expect(report.restamped == 3 && report.refused == 0 && report.pushed == 3)
            #expect(try a.store.parkedChanges().isEmpty)
            let stamps = try await s.server.records.loggedChanges(after: 0, limit: .max).map(\.change.time.wallMillis)
            #expect(stamps.allSatisfy { $0 <= serverClock.millis + 120_000 }, "the server holds only corrected stamps")
            #expect(try await a.store.exportCanonical() == s.server.records.exportAll())
            #expect(try await s.server.records.state(RecordRef("seeker", id)) != nil)
            #expect(abs(a.store.clockOffset + 3_600_000) < 2_000, "the offset was learned from the signed answers")
        }
    }
}
