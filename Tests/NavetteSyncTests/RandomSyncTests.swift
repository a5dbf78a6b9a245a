import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import Testing

/// Several laptops in two agencies make random offline edits and sync in
/// random order, over real HTTP. At the end every laptop's export equals
/// the server's state restricted to its agency, and no laptop holds another
/// agency's record. `NAVETTE_SEED` replays; `NAVETTE_SYNC_SCHEDULES` sets
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
            var laptops: [(laptop: Laptop, agency: String)] = []
            for i in 0..<5 {
                let agency = agencies[i < 3 ? 0 : 1]
                var l = try Laptop(UInt64(i + 1), clock: s.clock, logs: s.logs)
                l.engine.sleep = { _ in }
                try await l.engine.enrol(server: s.url, code: try s.code(agency: agency, counsellor: "c\(i)"))
                laptops.append((l, agency))
            }
            defer { laptops.forEach { $0.laptop.dir.remove() } }
            // Each agency's records, created on its first laptop and synced.
            var pools: [String: [(collection: String, id: String)]] = [:]
            for agency in agencies {
                let owner = laptops.first { $0.agency == agency }!.laptop
                var records: [(String, String)] = []
                for _ in 0..<3 {
                    records.append(("seeker", try owner.store.createRecord("seeker", [.set("agency", .string(agency))])))
                }
                let session = try owner.store.createRecord("workshopSession", [.set("agency", .string(agency)), .set("capacity", 2)])
                records.append(("workshopSession", session))
                let reg = RecordKeys.registration(session: session, seeker: records[0].1)
                try owner.store.edit("registration", reg, [.set("agency", .string(agency)), .set("session", .string(session))])
                records.append(("registration", reg))
                pools[agency] = records
                _ = try await owner.engine.sync()
            }
            for (l, _) in laptops { _ = try await l.engine.sync() }
            for _ in 0..<40 {
                let i = rng.int(in: 0..<laptops.count)
                let (laptop, agency) = laptops[i]
                s.clock.advance(by: Int64(rng.int(in: 0...20_000)))
                if rng.chance(0.3) {
                    _ = try await laptop.engine.sync()
                    continue
                }
                var gen = RandomEdits(records: pools[agency]!)
                gen.excludedFields = ["agency"]
                let store = laptop.store
                var states: [String: RecordState] = [:]
                for (c, id) in gen.records { states[c + id] = try store.state(c, id) ?? RecordState() }
                guard let (c, id, edit) = gen.next(&rng, state: { states[$0 + $1]! }) else { continue }
                _ = try? store.edit(c, id, [edit])
            }
            for _ in 0..<2 {
                for i in rng.shuffled(Array(laptops.indices)) { _ = try await laptops[i].laptop.engine.sync() }
            }
            for (laptop, agency) in laptops {
                let view = try s.server.store.exportCanonical(visibleTo: agency)
                #expect(try laptop.store.exportCanonical() == view, "a laptop of \(agency) diverged; NAVETTE_SEED=\(seed)")
                let other = agencies.first { $0 != agency }!
                for (c, id) in pools[other]! {
                    #expect(try laptop.store.state(c, id) == nil, "a laptop of \(agency) holds \(other)'s record; NAVETTE_SEED=\(seed)")
                }
                #expect(try laptop.store.parkedChanges().isEmpty, "NAVETTE_SEED=\(seed)")
            }
        }
    }
}
