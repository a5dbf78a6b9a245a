import NavetteCore
import NavetteTesting
import Testing

/// The one-pass decoder of stored states gives what the JSON-tree decoder
/// gives, and refuses what it refuses, on stored states and on damaged,
/// reordered or hand-written variants of them.
struct StoredStateDecodingTests {
    let limits = JSONParsingLimits(maximumBytes: 1 << 30)

    /// `nil` when the decoder refused the bytes.
    func tree(_ bytes: [UInt8]) -> RecordState? {
        try? RecordState(json: JSONValue(parsing: bytes, limits: limits))
    }

    func direct(_ bytes: [UInt8]) -> RecordState? {
        try? RecordState(storedBytes: bytes, limits: limits)
    }

    @Test func storedStatesAndTheirDamagedVariantsDecodeAsTheTreeDecoderDecodesThem() throws {
        let seed = testSeed(0x5_7A7E)
        print("stored-state decoding: 60 pools, seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let alphabet = Array(#"{}[]",:-0123456789abcdefx \"#.utf8)
        var states = 0, mutants = 0, refused = 0, accepted = 0
        for _ in 0..<60 {
            let pool = MergeLawTests.changePool(&rng)
            for (name, state) in MergeLawTests.state(pool, &rng) {
                let bytes = state.storedBytes
                #expect(direct(bytes) == state, "\(name); NAVETTE_SEED=\(seed)")
                states += 1
                for _ in 0..<15 {
                    var m = bytes
                    let at = rng.int(in: 0..<m.count)
                    switch rng.int(in: 0..<4) {
                    case 0: m[at] = rng.pick(alphabet)
                    case 1: m.remove(at: at)
                    case 2: m.insert(rng.pick(alphabet), at: at)
                    default:
                        let end = min(m.count, at + rng.int(in: 1...40))
                        m.insert(contentsOf: m[at..<end], at: end)
                    }
                    let expected = tree(m)
                    #expect(direct(m) == expected, "a mutant of \(name): \(String(decoding: m, as: UTF8.self)); NAVETTE_SEED=\(seed)")
                    mutants += 1
                    if expected == nil { refused += 1 } else { accepted += 1 }
                }
            }
        }
        print("stored-state decoding: \(states) states, \(mutants) mutants (\(refused) refused, \(accepted) accepted)")
        #expect(refused > 100 && accepted > 100, "the mutants cover both outcomes")
    }

    @Test(arguments: [
        // Members out of order, whitespace, unknown members at every level.
        #"{ "w" : {"0000000000000001":2}, "s":[{"v":[["0000000000000001-2","0000000000000005",{"b":1,"a":[true,null]},"extra"]],"zz":1,"f":"notes"}], "new":{"x":1} }"#,
        // An escaped id and an escaped time.
        #"{"s":[{"f":"a","v":[["\u0030000000000000001-1","000000000000000\u0035",1]]}]}"#,
        // An erased state whose other members are damaged: the erasure is what it holds.
        #"{"s":[{"k":"no field"}],"x":["0000000000000009","0000000000000001"]}"#,
        // Members of the wrong type, ignored or refused as the tree decoder does.
        #"{"s":{"f":"a"}}"#, #"{"s":[{"f":"a","v":"x","p":7}]}"#, #"{"s":[{"f":"a","k":3}]}"#,
        #"{"w":[]}"#, #"{"d":{"0000000000000001":-1}}"#, #"{"e":[{"f":"a","t":["0000000000000001"]}]}"#,
        #"{"s":[{"f":"a","v":[["0000000000000001-01","0000000000000005"]]}]}"#,
        #"{"s":[{"f":"a","v":[["0000000000000001-1"]]}]}"#,
        // Not a state, or not JSON at all.
        #"[1]"#, #""x""#, "", #"{"s":[]} x"#, #"{"s":[],"s":[]}"#, #"{"s":[{"f":"a","f":"b"}]}"#,
        // Objects with many members: the ninth or the tenth repeating the
        // first (past the eight kept inline), or none repeated.
        #"{"w":{"# + (1...8).map { #""000000000000000\#($0)":\#($0)"# }.joined(separator: ",") + #","0000000000000001":5}}"#,
        #"{"w":{"# + (1...9).map { #""000000000000000\#($0)":\#($0)"# }.joined(separator: ",") + #","0000000000000001":5}}"#,
        #"{"w":{"# + (1...9).map { #""000000000000000\#($0)":\#($0)"# }.joined(separator: ",") + #","000000000000000a":5}}"#,
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
        #"{"s":[{"f":"a","v":[["0000000000000001-1","0000000000000005",[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}"#,
    ])
    func handWrittenVariantsDecodeAsTheTreeDecoderDecodesThem(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(direct(bytes) == tree(bytes))
    }

    @Test func integersAndIdsAreWrittenAsTheirTextForms() {
        for v: Int64 in [0, 1, 9, 10, -1, -10, 1_234_567, .max, .min, .max - 1, .min + 1] {
            #expect(JSONValue.int(v).canonicalString == String(v))
        }
    }

    /// Change ids allow counters of up to 20 digits, past `Int64.max`: a
    /// record written by such a node stores, decodes and is deleted (its
    /// `writers` and a deletion's `seen` carry the counter) without a trap.
    @Test func countersPastInt64MaxAreStoredAndCarried() throws {
        let origin = NodeID(rawValue: .max)
        var state = RecordState()
        for counter: UInt64 in [1, 9, 10, 99, 100, UInt64(Int64.max), UInt64(Int64.max) + 1, .max] {
            state.apply(Change(
                id: ChangeID(origin: origin, counter: counter), time: Timestamp(rawValue: counter),
                collection: "seeker", record: "r", field: "unansweredContactAttempts", key: nil, operation: .increment,
                value: .int(-Int64(counter % 1_000)), pred: []))
        }
        #expect(state.writers[origin] == .max)
        #expect(state.storedBytes == state.jsonValue.canonicalBytes)
        #expect(String(decoding: state.storedBytes, as: UTF8.self).contains(#""ffffffffffffffff":18446744073709551615"#))
        #expect(direct(state.storedBytes) == state)
        #expect(tree(state.storedBytes) == state)

        var editor = LocalEditor(node: NodeID(rawValue: 2))
        let deletion = try editor.change(for: .deleteRecord, collection: "seeker", record: "r", state: state, wallMillis: 1_800_000_000_000)
        #expect(deletion.seen[origin] == .max)
        #expect(deletion.encodedBytes == deletion.jsonValue.canonicalBytes)
        #expect(try Change(encoded: deletion.encodedBytes) == deletion)
        state.apply(deletion)
        #expect(state.isDeleted)
        #expect(direct(state.storedBytes) == state)
        // Not a counter: negative, fractional, or past UInt64.max.
        for text in ["-1", "1.5", "1e3", "18446744073709551616"] {
            #expect(tree(Array(#"{"w":{"0000000000000001":\#(text)}}"#.utf8)) == nil)
            #expect(direct(Array(#"{"w":{"0000000000000001":\#(text)}}"#.utf8)) == nil)
        }
    }
}
