import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Synchronization
import Testing

/// Every move of a file between views: a new referent, a transfer, a
/// widened or narrowed view, an erasure — each reaches every laptop, each
/// laptop ends holding exactly its view, and no file of a laptop keeps a
/// byte of a record it dropped.
@Suite(.serialized)
struct ViewTests {
    struct Fleet {
        let s: TestServer
        var laptops: [(laptop: Laptop, agency: String, counsellor: String)] = []

        mutating func add(_ n: UInt64, agency: String, counsellor: String, transport: (any SyncTransport)? = nil) async throws {
            var l = try Laptop(n, clock: s.clock, logs: s.logs, transport: transport)
            l.engine.sleep = { _ in }
            try await l.engine.enrol(server: s.url, code: try s.code(agency: agency, counsellor: counsellor))
            laptops.append((l, agency, counsellor))
        }

        func syncAll() async throws {
            for _ in 0..<2 { for l in laptops { _ = try await l.laptop.engine.sync() } }
        }

        /// Every laptop holds exactly its view.
        func expectViews(_ comment: Comment) async throws {
            for (laptop, agency, counsellor) in laptops {
                let wide = try await s.server.shared.node(laptop.store.identity.node)!.agencyWide
                let view = try await s.server.records.view(ViewSpec(agency: agency, counsellor: counsellor, agencyWide: wide))
                #expect(try await laptop.store.exportCanonical() == s.server.records.exportCanonical(of: view), comment)
            }
        }

        func holds(_ i: Int, _ id: String) throws -> Bool { try laptops[i].laptop.store.state("seeker", id) != nil }

        func remove() { laptops.forEach { $0.laptop.dir.remove() } }
    }

    @Test(arguments: Backend.available) func aNewReferentsLaptopReceivesTheFileAndTheOldOneDropsIt(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            var f = Fleet(s: s)
            defer { f.remove() }
            try await f.add(1, agency: "069-lyon-3", counsellor: "c1")
            try await f.add(2, agency: "069-lyon-3", counsellor: "c2")
            let id = try f.laptops[0].laptop.store.createRecord("seeker", [
                .set("agency", "069-lyon-3"), .set("referent", "c1"), .set("identity.lastName", "Zqmoved"),
            ])
            try await f.syncAll()
            #expect(try f.holds(0, id) && !f.holds(1, id))
            try f.laptops[0].laptop.store.edit("seeker", id, [.set("referent", "c2")])
            try await f.syncAll()
            #expect(try !f.holds(0, id) && f.holds(1, id))
            try await f.expectViews("after a new referent")
            try f.laptops[0].laptop.store.truncateWAL()
            #expect(try filesContaining("Zqmoved", under: f.laptops[0].laptop.path).isEmpty, "the old laptop keeps no byte of the file")
        }
    }

    @Test(arguments: Backend.available) func aTransferDropsTheFileFromTheOldAgencyAndParksItsOfflineEdits(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            var f = Fleet(s: s)
            defer { f.remove() }
            try await f.add(1, agency: "069-lyon-3", counsellor: "c1")
            try await f.add(2, agency: "075-paris-1", counsellor: "c9")
            let id = try f.laptops[0].laptop.store.createRecord("seeker", [
                .set("agency", "069-lyon-3"), .set("referent", "c1"), .set("identity.lastName", "Zqtransfer"),
            ])
            try await f.syncAll()
            // Offline, the Lyon counsellor edits the file while the admin moves it to Paris.
            try f.laptops[0].laptop.store.edit("seeker", id, [.set("contact.phone", "0600000001")])
            try await s.server.transfer(seeker: id, to: "075-paris-1", referent: "c9", actor: "admin")
            try await f.syncAll()
            #expect(try !f.holds(0, id) && f.holds(1, id))
            let parked = try f.laptops[0].laptop.store.parkedChanges()
            #expect(parked.map(\.reason) == ["outside-agency"] && parked.first?.field == "contact.phone")
            try await f.expectViews("after a transfer")
            try f.laptops[0].laptop.store.truncateWAL()
            #expect(try filesContaining("Zqtransfer", under: f.laptops[0].laptop.path).isEmpty)
            // And back again.
            try await s.server.transfer(seeker: id, to: "069-lyon-3", referent: "c1", actor: "admin")
            try await f.syncAll()
            #expect(try f.holds(0, id) && !f.holds(1, id))
            try await f.expectViews("after the transfer back")
            #expect(try await s.server.shared.auditLog().filter { $0.action == "transfer" }.count == 2)
        }
    }

    @Test(arguments: Backend.available) func aWidenedViewHoldsTheWholeAgencyUntilNarrowed(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            var f = Fleet(s: s)
            defer { f.remove() }
            try await f.add(1, agency: "069-lyon-3", counsellor: "c1")
            try await f.add(2, agency: "069-lyon-3", counsellor: "desk")
            let ids = try (0..<3).map { i in
                try f.laptops[0].laptop.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", "c1"), .set("identity.lastName", .string("Zqdesk\(i)"))])
            }
            try await f.syncAll()
            #expect(try ids.allSatisfy { try !f.holds(1, $0) })
            #expect(try await s.server.shared.setAgencyWide(f.laptops[1].laptop.store.identity.node, true, actor: "admin", now: s.clock.millis))
            try await f.syncAll()
            #expect(try ids.allSatisfy { try f.holds(1, $0) })
            try await f.expectViews("widened")
            #expect(try await s.server.shared.setAgencyWide(f.laptops[1].laptop.store.identity.node, false, actor: "admin", now: s.clock.millis))
            try await f.syncAll()
            #expect(try ids.allSatisfy { try !f.holds(1, $0) })
            try await f.expectViews("narrowed")
            try f.laptops[1].laptop.store.truncateWAL()
            #expect(try filesContaining("Zqdesk", under: f.laptops[1].laptop.path).isEmpty)
        }
    }

    @Test(arguments: Backend.available) func anErasureReachesEveryLaptopEvenWhenAStaleOneStillPushesTheValues(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            var f = Fleet(s: s)
            defer { f.remove() }
            try await f.add(1, agency: "069-lyon-3", counsellor: "c1")
            try await f.add(2, agency: "069-lyon-3", counsellor: "c2")
            let id = try f.laptops[0].laptop.store.createRecord("seeker", [
                .set("agency", "069-lyon-3"), .set("referent", "c1"), .add("followers", element: "c2"),
                .set("identity.lastName", "Zqerased"), .set("sensitive.healthConstraints", "Zqhealth"),
            ])
            try await f.syncAll()
            // The counsellor flags the request; it reaches the admin.
            try f.laptops[0].laptop.store.edit("seeker", id, [.set("erasureRequested", true)])
            _ = try await f.laptops[0].laptop.engine.sync()
            #expect(try await s.server.erasureStatus().map(\.seeker) == [id])
            // Laptop 2, offline, still edits the file with the values.
            try f.laptops[1].laptop.store.edit("seeker", id, [.set("sensitive.healthConstraints", "Zqhealth again")])
            try await s.server.erase(seeker: id, actor: "admin")
            #expect(try await s.server.erasureStatus().first { $0.erased }?.pendingOn.count == 2)
            try await f.syncAll()
            #expect(try await s.server.erasureStatus().first { $0.erased }?.pendingOn.isEmpty == true, "every laptop purged it")
            for (laptop, _, _) in f.laptops {
                #expect(try laptop.store.state("seeker", id) == nil)
                try laptop.store.truncateWAL()
                #expect(try filesContaining("Zqerased", under: laptop.path).isEmpty)
                #expect(try filesContaining("Zqhealth", under: laptop.path).isEmpty)
            }
            try await s.server.records.reclaimErasedSpace()
            #expect(try await s.server.records.loggedChanges(after: 0, limit: .max).allSatisfy { !$0.change.encoded.contains("Zqhealth") })
            try await f.expectViews("after an erasure")
        }
    }

    @Test(arguments: Backend.available) func aLaptopNeverReceivesAFileItsCounsellorDoesNotFollow(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let t = TamperingTransport()
            var f = Fleet(s: s)
            defer { f.remove() }
            try await f.add(1, agency: "069-lyon-3", counsellor: "c1", transport: t)
            try await f.add(2, agency: "069-lyon-3", counsellor: "c2")
            let other = try f.laptops[1].laptop.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", "c2"), .set("identity.lastName", "Zqnotmine")])
            try await f.syncAll()
            try f.laptops[1].laptop.store.edit("seeker", other, [.set("contact.phone", "0600000002")])
            try await f.syncAll()
            // On the wire: nothing the server sent laptop 1 mentions that file.
            let sent = t.recorded.withLock { $0 }
            #expect(!sent.isEmpty)
            for r in sent {
                let plain = try BodyEncoding.decode(r.body, encodings: r.headers.filter { $0.name == "content-encoding" }.map(\.value), maximumBytes: 1 << 24)
                #expect(!String(decoding: plain, as: UTF8.self).contains(other))
            }
        }
    }
}

extension ViewTests {
    @Test(arguments: Backend.available) func aLaptopBehindTheHistoryHorizonRebuildsItsViewWithoutLosingItsWork(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            var f = Fleet(s: s)
            defer { f.remove() }
            try await f.add(1, agency: "069-lyon-3", counsellor: "c1")
            try await f.add(2, agency: "069-lyon-3", counsellor: "c1")
            let a = f.laptops[0].laptop, b = f.laptops[1].laptop
            let kept = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", "c1"), .set("identity.lastName", "Kept")])
            let moved = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", "c1"), .set("identity.lastName", "Zqleaves")])
            try await f.syncAll()
            // B goes offline for six weeks, and works meanwhile.
            try b.store.edit("seeker", kept, [.set("contact.phone", "0600000003")])
            for i in 0..<20 { try a.store.edit("seeker", kept, [.increment("unansweredContactAttempts", by: 1), .set("notes", .string("n\(i)"))]) }
            try a.store.edit("seeker", moved, [.set("referent", "c5")])
            _ = try await a.engine.sync()
            s.clock.advance(by: 42 * 86_400_000)
            let horizon = try await s.server.compactHistory(keepDays: 30, actor: "admin")
            #expect(horizon > 0)
            let report = try await b.engine.sync()
            #expect(report.pushed == 1, "B's own work went first")
            #expect(try !f.holds(1, moved), "the file that left B's view while it was away is gone")
            let phone = try await s.server.records.state(RecordRef("seeker", kept))!.view(of: Schema.navette.field("seeker", "contact.phone")!)
            #expect(phone.shown == "0600000003", "nothing of B's work was lost")
            try await f.syncAll()
            try await f.expectViews("after a bootstrap")
            try b.store.truncateWAL()
            #expect(try filesContaining("Zqleaves", under: b.path).isEmpty)
        }
    }
}
