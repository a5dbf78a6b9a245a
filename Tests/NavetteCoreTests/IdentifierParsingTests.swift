import NavetteCore
import NavetteTesting
import Testing

/// Node ids, change ids and timestamps are parsed byte by byte: what they
/// accept and refuse, and that every value reads back as written.
struct IdentifierParsingTests {
    @Test func everyIdentifierReadsBackAsWritten() {
        let seed = testSeed(0x1D_0001)
        var rng = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            let node = NodeID(rawValue: rng.next())
            let counter = rng.chance(0.5) ? UInt64(rng.int(in: 1...1_000)) : max(1, rng.next())
            let id = ChangeID(origin: node, counter: counter)
            #expect(NodeID(node.description) == node, "NAVETTE_SEED=\(seed)")
            #expect(ChangeID(id.description) == id, "NAVETTE_SEED=\(seed)")
            let time = Timestamp(wallMillis: rng.next() >> 16, counter: UInt16(truncatingIfNeeded: rng.next()))
            #expect(Timestamp(time.description) == time, "NAVETTE_SEED=\(seed)")
            #expect(node.description.utf8.count == 16 && time.description.utf8.count == 16)
        }
        #expect(ChangeID("ffffffffffffffff-18446744073709551615") == ChangeID(origin: NodeID(rawValue: .max), counter: .max))
    }

    @Test(arguments: [
        "", "000000000000001f", "000000000000001f-", "000000000000001f-0", "000000000000001f-01", "000000000000001F-1",
        "00000000000001f-1", "0000000000000001f-1", "000000000000001f+1", "000000000000001f-1a", "000000000000001f--1",
        "000000000000001f-18446744073709551616", "000000000000001f-123456789012345678901", " 000000000000001f-1",
        "000000000000001f-1 ", "000000000000001f-١",
    ])
    func aMalformedChangeIDIsRefused(_ text: String) {
        #expect(ChangeID(text) == nil)
    }

    @Test(arguments: ["", "000000000000001", "0000000000000001f", "000000000000001F", "00000000000000g1", "-000000000000001", "00000000000000é"])
    func aMalformedNodeIDOrTimestampIsRefused(_ text: String) {
        #expect(NodeID(text) == nil)
        #expect(Timestamp(text) == nil)
    }
}

/// Plain ASCII strings take the parser's one-copy path; others are decoded
/// scalar by scalar. Both must accept and refuse the same inputs.
struct StringParsingPathTests {
    @Test func bothPathsKeepTheSameLengthLimitAndContent() throws {
        let limits = JSONParsingLimits(maximumStringBytes: 10)
        for length in 6...12 {
            let ascii = String(repeating: "a", count: length)
            let accented = String(repeating: "a", count: length - 2) + "é"  // the same number of bytes
            let plain = try? JSONValue(parsing: Array("\"\(ascii)\"".utf8), limits: limits)
            let decoded = try? JSONValue(parsing: Array("\"\(accented)\"".utf8), limits: limits)
            #expect((plain == nil) == (decoded == nil), "length \(length)")
            if let plain { #expect(plain == .string(ascii)) }
        }
        #expect(try JSONValue(parsing: Array(#"["a\"b", "tab\tx", "x"]"#.utf8)) == ["a\"b", "tab\tx", "x"])
        #expect(throws: (any Error).self) { try JSONValue(parsing: Array("\"a\u{01}b\"".utf8)) }
        #expect(throws: (any Error).self) { try JSONValue(parsing: Array("\"abc".utf8)) }
    }
}
