import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// Convergence through the real SQLite store: on-disk stores edit at random
/// and pull from each other in random order and batch sizes; at the end
/// every store, and an in-memory model fed the same changes, export the
/// same bytes.
struct StoreConvergenceTests {
    @Test func sqliteStoresConvergeWithEachOtherAndWithTheModel() throws {
        let base = testSeed(0x5D1_5C0)
        let schedules = environmentInt("NAVETTE_STORE_SCHEDULES", default: ProcessEnvironment.value("NAVETTE_FULL") == "1" ? 200 : 12)
        print("store convergence: \(schedules) schedules from seed \(base)")
        for k in 0..<schedules {
            let seed = base &+ UInt64(k)
            try run(seed: seed)
        }
    }

    func run(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let clock = ManualClock(millis: 1_767_600_000_000)
        let dirs = try (0..<4).map { _ in try TemporaryDirectory(prefix: "navette-conv") }
        defer { dirs.forEach { $0.remove() } }
        let stores = try dirs.enumerated().map { i, d in
            try RecordStore.create(
                directory: d.appending("node"), identity: identity(UInt64(i + 1)),
                configuration: .init(wallClock: clock.read))
        }
        let seekers = (0..<2).map { _ in RecordKeys.random(using: &rng) }
        let session = RecordKeys.random(using: &rng)
        let gen = RandomEdits(
            records: seekers.map { ("seeker", $0) } + [("workshopSession", session)]
                + [("registration", RecordKeys.registration(session: session, seeker: seekers[0]))],
            values: RandomValues(pools: ["seeker": seekers]))
        for _ in 0..<60 {
            let i = rng.int(in: 0..<stores.count)
            clock.advance(by: Int64(rng.int(in: -2_000...5_000)))
            if rng.chance(0.25) {
                let j = rng.int(in: 0..<stores.count)
                if i != j { try stores[i].pull(from: stores[j], batchSize: rng.int(in: 1...20)) }
                continue
            }
            let store = stores[i]
            var states: [String: RecordState] = [:]
            for (c, id) in gen.records { states[c + id] = try store.state(c, id) ?? RecordState() }
            guard let (c, id, edit) = gen.next(&rng, state: { states[$0 + $1]! }) else { continue }
            _ = try? store.edit(c, id, [edit])
        }
        for _ in 0..<2 {
            for i in rng.shuffled(Array(stores.indices)) {
                for j in stores.indices where i != j { try stores[i].pull(from: stores[j]) }
            }
        }
        let exports = try stores.map { try $0.exportCanonical() }
        #expect(Set(exports).count == 1, "SQLite stores diverged; NAVETTE_SEED=\(seed) NAVETTE_STORE_SCHEDULES=1")
        var model = MemoryReplica(node: NodeID(rawValue: 99))
        for s in stores { model.apply(rng.shuffled(try s.changes(after: 0).map(\.change))) }
        #expect(model.export() == exports[0], "the store and the model disagree; NAVETTE_SEED=\(seed)")
        for s in stores {
            #expect(try s.integrityCheck() == "ok")
            try checkIndexes(s, collections: Set(gen.records.map(\.0)), seed: seed)
        }
    }

    /// The store's derived tables, which writes update only where a record's
    /// derived values changed, agree with its states: the conflict count
    /// (summed from the field views) and every list's rows and summaries.
    func checkIndexes(_ store: RecordStore, collections: Set<String>, seed: UInt64) throws {
        let schema = store.configuration.schema
        var conflicts = 0
        var lists: [String: [String: [String: JSONValue]]] = [:]
        for c in collections { lists[c] = [:] }
        for (c, id, state) in try store.allStates() {
            guard let spec = schema.collection(c), !state.isErased else { continue }
            for name in state.fieldNames {
                if let f = spec.field(name), f.showsConflicts { conflicts += state.view(of: f).conflictCount }
            }
            guard !state.isDeleted else { continue }
            var fields: [String: JSONValue] = [:]
            for name in spec.summaryFields {
                guard let f = spec.field(name) else { continue }
                switch state.view(of: f) {
                case .register(let v?, _), .writeOnce(let v?): fields[name] = v.value
                case .flag(let b?): fields[name] = .bool(b)
                case .counter(let n): fields[name] = .int(n)
                default: break
                }
            }
            lists[c]![id] = fields
        }
        #expect(try store.status().conflicts == conflicts, "conflict count; NAVETTE_SEED=\(seed)")
        for (c, expected) in lists {
            let listed = Dictionary(uniqueKeysWithValues: try store.list(c).map { ($0.id, $0.fields) })
            #expect(listed == expected, "the \(c) list; NAVETTE_SEED=\(seed)")
        }
    }
}
