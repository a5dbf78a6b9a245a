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
}
