import NavetteCore
import NavetteTesting
import Testing

/// The merge laws, checked as properties over random states built from the
/// real schema's edits. A failure prints its seed; `NAVETTE_SEED=<seed>`
/// replays it.
struct MergeLawTests {
    /// A pool of changes to one seeker and one session, written concurrently
    /// by three replicas that exchange now and then.
    static func changePool(_ rng: inout SplitMix64) -> [Change] {
        var replicas = (1...3).map { MemoryReplica(node: NodeID(rawValue: UInt64($0))) }
        let gen = RandomEdits(records: [("seeker", seekerID), ("workshopSession", sessionID)])
        var wall: [UInt64] = [1_000, 1_000, 1_000]
        for _ in 0..<40 {
            let i = rng.int(in: 0..<3)
            if rng.chance(0.2) {
                let j = rng.int(in: 0..<3)
                replicas[i].apply(replicas[j].log)
                continue
            }
            wall[i] += UInt64(rng.int(in: 0...500))
            let r = replicas[i]
            guard let (c, id, edit) = gen.next(&rng, state: { r.state($0, $1) }) else { continue }
            _ = try? replicas[i].edit(c, id, edit, wallMillis: wall[i])
        }
        var seen = Set<ChangeID>()
        return replicas.flatMap(\.log).filter { seen.insert($0.id).inserted }
    }

    /// The states of the records in `changes`, applied in a random order.
    static func state(_ changes: [Change], _ rng: inout SplitMix64) -> [String: RecordState] {
        var out: [String: RecordState] = [:]
        for c in rng.shuffled(changes) { out[c.collection + "/" + c.record, default: RecordState()].apply(c) }
        return out
    }

    static func subset(_ changes: [Change], _ rng: inout SplitMix64) -> [Change] {
        changes.filter { _ in rng.chance(0.6) }
    }

    static func merged(_ a: [String: RecordState], _ b: [String: RecordState]) -> [String: RecordState] {
        a.merging(b) { $0.merging($1) }
    }

    @Test func mergeIsCommutativeAssociativeAndIdempotent() {
        let base = testSeed(0x5EED_0001)
        print("merge laws: 200 rounds from seed \(base) (NAVETTE_SEED replays)")
        for round in 0..<200 {
            let seed = base &+ UInt64(round)
            var rng = SplitMix64(seed: seed)
            let pool = Self.changePool(&rng)
            let a = Self.state(Self.subset(pool, &rng), &rng)
            let b = Self.state(Self.subset(pool, &rng), &rng)
            let c = Self.state(Self.subset(pool, &rng), &rng)
            #expect(Self.merged(a, b) == Self.merged(b, a), "commutativity, seed \(seed)")
            #expect(
                Self.merged(Self.merged(a, b), c) == Self.merged(a, Self.merged(b, c)), "associativity, seed \(seed)")
            #expect(Self.merged(a, a) == a, "idempotence, seed \(seed)")
        }
    }

    @Test func applyingChangesInAnyOrderWithDuplicatesGivesTheMergedState() {
        let base = testSeed(0x5EED_0002)
        print("apply order: 200 rounds from seed \(base) (NAVETTE_SEED replays)")
        for round in 0..<200 {
            let seed = base &+ UInt64(round)
            var rng = SplitMix64(seed: seed)
            let pool = Self.changePool(&rng)
            let left = Self.subset(pool, &rng)
            let right = Self.subset(pool, &rng)
            let union = Self.state(left + right + Self.subset(left, &rng), &rng)
            let merged = Self.merged(Self.state(left, &rng), Self.state(right, &rng))
            #expect(union == merged, "op-based and state-based merge disagree, seed \(seed)")
            let again = Self.state(rng.shuffled(left + right), &rng)
            #expect(union == again, "order changed the state, seed \(seed)")
        }
    }

    @Test func storedStatesDecodeToTheSameState() throws {
        var rng = SplitMix64(seed: testSeed(0x5EED_0003))
        for (_, s) in Self.state(Self.changePool(&rng), &rng) {
            let text = s.jsonValue.canonicalString
            #expect(try RecordState(json: try JSONValue(parsing: text)) == s)
        }
    }

    @Test func changesSurviveTheirEncoding() throws {
        var rng = SplitMix64(seed: testSeed(0x5EED_0004))
        for c in Self.changePool(&rng) {
            let decoded = try Change(encoded: Array(c.encoded.utf8))
            #expect(decoded == c)
            #expect(decoded.encoded == c.encoded)
        }
    }
}
