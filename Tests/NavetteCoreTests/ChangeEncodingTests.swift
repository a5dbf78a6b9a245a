import NavetteCore
import NavetteTesting
import Testing

/// The direct encoder of changes writes exactly the bytes of the generic
/// canonical encoding.
struct ChangeEncodingTests {
    @Test func theDirectEncodingIsTheCanonicalEncodingOfTheJSONObject() throws {
        let seed = testSeed(0xC0DE_0001)
        print("change encoding: 100 pools, seed \(seed)")
        var rng = SplitMix64(seed: seed)
        var checked = 0
        for _ in 0..<100 {
            for change in MergeLawTests.changePool(&rng) {
                for c in [change, change.purged] {
                    #expect(c.encodedBytes == c.jsonValue.canonicalBytes, "\(c.id); NAVETTE_SEED=\(seed)")
                    checked += 1
                }
            }
        }
        #expect(checked > 1_000)
    }

    @Test func escapesKeysPredecessorsSeenCountersAndUnknownMembersEncodeAsTheGenericPath() throws {
        let id = ChangeID(origin: NodeID(rawValue: 0xAB), counter: 7)
        var change = Change(
            id: id, time: Timestamp(wallMillis: 1_767_600_000_000, counter: 3), collection: "seeker", record: "r\"1",
            field: "notes", operation: .set, value: .string("a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F} é 😀"))
        change.key = "k\\1"
        // Predecessors in their canonical order (decoding keeps them sorted).
        change.pred = [ChangeID(origin: NodeID(rawValue: 1), counter: 9), ChangeID(origin: NodeID(rawValue: 2), counter: 1)]
        change.seen = [NodeID(rawValue: 2): 4, NodeID(rawValue: 1): 9]
        #expect(change.encodedBytes == change.jsonValue.canonicalBytes)
        #expect(change.encoded.contains(#"\u0001"#) && change.encoded.contains(#"\u001f"#) && change.encoded.contains("😀"))
        let back = try Change(encoded: change.encodedBytes)
        #expect(back == change, "\(back) vs \(change)")
        change.unknownMembers = ["zz": .int(1), "aa": .bool(false)]
        #expect(change.encodedBytes == change.jsonValue.canonicalBytes)
        #expect(change.encoded.hasPrefix(#"{"aa":false,"collection""#))
    }

    @Test func aStatesStoredFormIsTheCanonicalEncodingOfItsJSONObject() throws {
        let seed = testSeed(0xC0DE_0002)
        print("state encoding: 100 pools, seed \(seed)")
        var rng = SplitMix64(seed: seed)
        var checked = 0
        var withErasures = 0, withDeletions = 0, withWriters = 0, withSuperseded = 0
        for _ in 0..<100 {
            let pool = MergeLawTests.changePool(&rng)
            for (name, state) in MergeLawTests.state(pool, &rng) {
                if !state.erasures.isEmpty { withErasures += 1 }
                if !state.deletions.isEmpty { withDeletions += 1 }
                if !state.writers.isEmpty { withWriters += 1 }
                if state.slots.values.contains(where: { !$0.superseded.isEmpty }) { withSuperseded += 1 }
                #expect(state.storedBytes == state.jsonValue.canonicalBytes, "\(name); NAVETTE_SEED=\(seed)")
                #expect(try RecordState(json: try JSONValue(parsing: state.storedBytes)) == state, "\(name); NAVETTE_SEED=\(seed)")
                checked += 1
            }
        }
        var erased = RecordState()
        erased.erasedAt = Stamp(time: Timestamp(wallMillis: 1_767_600_000_000, counter: 1), node: NodeID(rawValue: 0xEE))
        #expect(erased.storedBytes == erased.jsonValue.canonicalBytes)
        #expect(checked >= 100)
        print("states: \(checked), with erasures \(withErasures), deletions \(withDeletions), writers \(withWriters), superseded \(withSuperseded)")
        #expect(withErasures > 0 && withDeletions > 0 && withWriters > 0 && withSuperseded > 0, "the pools cover every member")
    }
}
