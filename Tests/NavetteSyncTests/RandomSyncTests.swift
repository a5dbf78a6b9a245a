import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import Testing

/// Several laptops in two agencies make random offline edits — referents,
/// followers, facilitators and registrations included, so files enter and
/// leave views — and sync in random order, over real HTTP. At the end every
/// laptop's export equals the server's state restricted to its view, and no
/// laptop holds another agency's record. `NAVETTE_SEED` replays; `NAVETTE_SYNC_SCHEDULES` sets
/// how many schedules run (default 4).
@Suite(.serialized)
struct RandomSyncTests {
    @Test func laptopsOfTwoAgenciesConvergeOnTheirViews() async throws {
        let base = testSeed(0x5EC5_0001)
        let schedules = environmentInt("NAVETTE_SYNC_SCHEDULES", default: ProcessEnvironment.value("NAVETTE_FULL") == "1" ? 40 : 4)
        print("random sync: \(schedules) schedules from seed \(base)")
        for k in 0..<schedules { try await run(seed: base &+ UInt64(k)) }
    }

    func run(seed: UInt64) async throws {
        var rng = SplitMix64(seed: seed)
        try await withServer { s in
            let agencies = ["069-lyon-3", "075-paris-1"]
            var laptops: [(laptop: Laptop, agency: String, counsellor: String)] = []
            for i in 0..<5 {
                let agency = agencies[i < 3 ? 0 : 1]
                var l = try Laptop(UInt64(i + 1), clock: s.clock, logs: s.logs)
                l.engine.sleep = { _ in }
                try await l.engine.enrol(server: s.url, code: try s.code(agency: agency, counsellor: "c\(i)"))
                laptops.append((l, agency, "c\(i)"))
            }
            defer { laptops.forEach { $0.laptop.dir.remove() } }
            // The first laptop of Lyon is a reception desk: it holds every file of its agency.
            try s.server.registry.setAgencyWide(laptops[0].laptop.store.identity.node, true, actor: "test", now: s.clock.millis)
            func spec(_ i: Int) throws -> ViewSpec {
                let l = laptops[i]
                let wide = try s.server.registry.node(l.laptop.store.identity.node)!.agencyWide
                return ViewSpec(agency: l.agency, counsellor: l.counsellor, agencyWide: wide)
            }
            // Each agency's records, created on its first laptop with random referents and synced.
            var pools: [String: [(collection: String, id: String)]] = [:]
            for agency in agencies {
                let owner = laptops.first { $0.agency == agency }!
                let counsellors = laptops.filter { $0.agency == agency }.map(\.counsellor)
                var records: [(String, String)] = []
                for _ in 0..<4 {
                    records.append(("seeker", try owner.laptop.store.createRecord("seeker", [
                        .set("agency", .string(agency)), .set("referent", .string(rng.pick(counsellors))),
                        .set("identity.lastName", "Nom"),
                    ])))
                }
                let session = try owner.laptop.store.createRecord("workshopSession", [
                    .set("agency", .string(agency)), .set("capacity", 2), .add("facilitators", element: rng.pick(counsellors)),
                ])
                records.append(("workshopSession", session))
                let reg = RecordKeys.registration(session: session, seeker: records[0].1)
                try owner.laptop.store.edit("registration", reg, [
                    .set("agency", .string(agency)), .set("session", .string(session)), .set("seeker", .string(records[0].1)),
                ])
                records.append(("registration", reg))
                pools[agency] = records
                _ = try await owner.laptop.engine.sync()
            }
            for (l, _, _) in laptops { _ = try await l.engine.sync() }
            for _ in 0..<40 {
                let i = rng.int(in: 0..<laptops.count)
                let (laptop, agency, _) = laptops[i]
                s.clock.advance(by: Int64(rng.int(in: 0...20_000)))
                if rng.chance(0.3) {
                    _ = try await laptop.engine.sync()
                    continue
                }
                // A counsellor edits only files the laptop holds whole (on the laptop,
                // and as far as the server knows).
                let held = try s.server.registry.confirmedView(laptop.store.identity.node)
                let editable = try pools[agency]!.filter {
                    try held[RecordRef($0.collection, $0.id)] == false && laptop.store.state($0.collection, $0.id) != nil
                }
                guard !editable.isEmpty else { continue }
                let counsellors = laptops.filter { $0.agency == agency }.map(\.counsellor)
                var gen = RandomEdits(
                    records: editable,
                    values: RandomValues(pools: ["counsellor": counsellors, "seeker": pools[agency]!.filter { $0.collection == "seeker" }.map(\.id)]))
                gen.excludedFields = ["agency", "session"]
                gen.eraseRecordRate = 0
                let store = laptop.store
                var states: [String: RecordState] = [:]
                for (c, id) in gen.records { states[c + id] = try store.state(c, id) ?? RecordState() }
                guard let (c, id, edit) = gen.next(&rng, state: { states[$0 + $1]! }) else { continue }
                _ = try? store.edit(c, id, [edit])
            }
            for _ in 0..<3 {
                for i in rng.shuffled(Array(laptops.indices)) { _ = try await laptops[i].laptop.engine.sync() }
            }
            for (i, (laptop, agency, _)) in laptops.enumerated() {
                let view = try s.server.store.exportCanonical(view: try s.server.store.view(try spec(i)))
                let mine = try laptop.store.exportCanonical()
                if mine != view {
                    let a = (try JSONValue(parsing: mine))["records"]!.arrayValue!
                    let b = (try JSONValue(parsing: view))["records"]!.arrayValue!
                    let ka = Set(a.map { "\($0["collection"]!.stringValue!)/\($0["id"]!.stringValue!)" })
                    let kb = Set(b.map { "\($0["collection"]!.stringValue!)/\($0["id"]!.stringValue!)" })
                    print("DIFF laptop \(i) seed \(seed): only on laptop \(ka.subtracting(kb)), only in view \(kb.subtracting(ka))")
                    let differing = a.filter { r in b.contains { $0["id"] == r["id"] } && !b.contains(r) }.count
                    print("  \(differing) records differ in content")
                }
                #expect(mine == view, "a laptop of \(agency) diverged from its view; NAVETTE_SEED=\(seed)")
                let other = agencies.first { $0 != agency }!
                for (c, id) in pools[other]! {
                    #expect(try laptop.store.state(c, id) == nil, "a laptop of \(agency) holds \(other)'s record; NAVETTE_SEED=\(seed)")
                }
                #expect(try laptop.store.parkedChanges().isEmpty, "NAVETTE_SEED=\(seed)")
            }
        }
    }
}
