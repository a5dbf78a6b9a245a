import NavetteCore
import NavetteTesting
import Testing

/// Five replicas, random edits over the real schema (every kind, deletions,
/// erasures), random exchanges of subsets of changes in random order with
/// duplicates, laptop clocks that drift and jump back; after a final full
/// exchange every replica must export identical bytes.
///
/// `NAVETTE_CONVERGENCE_SCHEDULES` sets the number of schedules (default
/// 1,000; 10,000 with `NAVETTE_FULL=1`); `NAVETTE_SEED` replays a failure.
struct ConvergenceTests {
    static var schedules: Int {
        environmentInt("NAVETTE_CONVERGENCE_SCHEDULES", default: ProcessEnvironment.value("NAVETTE_FULL") == "1" ? 10_000 : 1_000)
    }

    /// Runs one schedule and returns each replica's export.
    static func run(seed: UInt64, replicas count: Int = 5, steps: Int = 100) -> [String] {
        var rng = SplitMix64(seed: seed)
        var replicas = (0..<count).map { _ in MemoryReplica(node: NodeID.random(using: &rng)) }
        let seekers = (0..<3).map { _ in RecordKeys.random(using: &rng) }
        let session = RecordKeys.random(using: &rng)
        var records: [(collection: String, id: String)] = seekers.map { ("seeker", $0) }
        records.append(("workshopSession", session))
        records.append(("workshop", RecordKeys.random(using: &rng)))
        for s in seekers.prefix(2) { records.append(("registration", RecordKeys.registration(session: session, seeker: s))) }
        let gen = RandomEdits(records: records, values: RandomValues(pools: ["seeker": seekers, "workshopSession": [session]]))
        // Each laptop's clock: its own offset, and now and then a jump back.
        var walls = (0..<count).map { _ in UInt64(1_767_600_000_000 + rng.int(in: 0...600_000)) }
        for _ in 0..<steps {
            let i = rng.int(in: 0..<count)
            if rng.chance(0.3) {
                let j = rng.int(in: 0..<count)
                let sent = replicas[j].log.filter { _ in rng.chance(0.5) }
                replicas[i].apply(rng.shuffled(sent + sent.filter { _ in rng.chance(0.3) }))
                continue
            }
            walls[i] = rng.chance(0.05) ? walls[i] - UInt64(rng.int(in: 0...120_000)) : walls[i] + UInt64(rng.int(in: 0...5_000))
            let r = replicas[i]
            guard let (c, id, edit) = gen.next(&rng, state: { r.state($0, $1) }) else { continue }
            _ = try? replicas[i].edit(c, id, edit, wallMillis: walls[i])
        }
        let everything = replicas.flatMap(\.log)
        for i in replicas.indices { replicas[i].apply(rng.shuffled(everything)) }
        return replicas.map { $0.export() }
    }

    @Test func replicasConvergeAfterAnyExchangeSchedule() {
        let base = testSeed(0xC0_4E4E)
        let n = Self.schedules
        print("convergence: \(n) schedules from seed \(base) (NAVETTE_SEED replays)")
        var failures = 0
        for k in 0..<n {
            let seed = base &+ UInt64(k)
            let exports = Self.run(seed: seed)
            if Set(exports).count != 1 {
                failures += 1
                Issue.record("replicas diverged; replay with NAVETTE_SEED=\(seed) NAVETTE_CONVERGENCE_SCHEDULES=1")
                if failures > 3 { break }
            }
        }
    }

    @Test func schedulesExerciseEveryKindDeletionsAndErasures() {
        // Guards the generator: a convergence run that never deletes, erases
        // or touches a kind proves nothing about it.
        var ops: Set<String> = []
        var rng = SplitMix64(seed: 7)
        var r = MemoryReplica(node: NodeID(rawValue: 1))
        let gen = RandomEdits(records: [
            ("seeker", seekerID), ("workshopSession", sessionID),
            ("registration", RecordKeys.registration(session: sessionID, seeker: seekerID)),
        ])
        var wall: UInt64 = 1_000
        for _ in 0..<3_000 {
            let snapshot = r
            guard let (c, id, edit) = gen.next(&rng, state: { snapshot.state($0, $1) }) else {
                r = MemoryReplica(node: NodeID(rawValue: r.node.rawValue + 1))
                continue
            }
            wall += 10
            if let change = try? r.edit(c, id, edit, wallMillis: wall) {
                let kind = change.field.flatMap { Schema.navette.field(c, $0)?.kind.rawValue } ?? "record"
                ops.insert("\(change.operation.name):\(kind)")
            }
        }
        for expected in [
            "set:lww", "remove:lww", "set:writeOnce", "set:awSet", "remove:awSet", "set:awMap", "remove:awMap",
            "increment:counter", "set:enableWins", "append:log", "erase:log", "erase:lww", "delete:record",
            "erase:record", "set:text",
        ] {
            #expect(ops.contains(expected), "the generator never made \(expected)")
        }
    }
}
