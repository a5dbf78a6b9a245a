import Foundation
import NavetteCore
import NavetteTesting
import Testing

/// A stored state opened lazily applies changes as the whole state does,
/// writes back the bytes the whole state writes, and names every slot a
/// change altered (the store moves a record's conflict count by those).
struct LazyRecordStateTests {
    let limits = JSONParsingLimits(maximumBytes: 1 << 30)

    @Test func aLazyStateAppliesAndWritesAsTheWholeState() throws {
        let seed = testSeed(0x1A2_5EED)
        print("lazy record states: 100 pools, seed \(seed)")
        var rng = SplitMix64(seed: seed)
        var records = 0, applied = 0, leftUnread = 0, erased = 0
        for _ in 0..<100 {
            let pool = MergeLawTests.changePool(&rng)
            let stored = MergeLawTests.subset(pool, &rng)
            let storedIDs = Set(stored.map(\.id))
            let later = rng.shuffled(pool.filter { !storedIDs.contains($0.id) })
            for (name, base) in MergeLawTests.state(stored, &rng) {
                let bytes = base.storedBytes
                var lazy = try LazyRecordState(storedBytes: bytes, limits: limits)
                var whole = base
                let fields = Array(Set(base.slots.keys.map(\.field))).sorted()
                for change in later where change.collection + "/" + change.record == name {
                    #expect(try lazy.apply(change) == whole.apply(change), "\(name) \(change.id); NAVETTE_SEED=\(seed)")
                    applied += 1
                    if !fields.isEmpty, rng.chance(0.2) { try lazy.parse(field: rng.pick(fields)) }
                }
                #expect(lazy.storedBytes == whole.storedBytes, "\(name); NAVETTE_SEED=\(seed)")
                #expect(
                    try RecordState(storedBytes: lazy.storedBytes, limits: limits) == whole,
                    "\(name); NAVETTE_SEED=\(seed)")
                if whole.isErased {
                    erased += 1
                } else {
                    // A slot no change wrote is as it was stored.
                    for (key, slot) in whole.slots where lazy.written?.contains(key) != true {
                        #expect(base.slots[key] == slot, "\(name) \(key); NAVETTE_SEED=\(seed)")
                    }
                    for key in lazy.written ?? [] {
                        #expect(try lazy.storedSlot(key) == base.slots[key], "\(name) \(key); NAVETTE_SEED=\(seed)")
                    }
                }
                if !lazy.isComplete { leftUnread += 1 }
                try lazy.parseAll()
                #expect(lazy.isComplete)
                #expect(lazy.state == whole, "\(name); NAVETTE_SEED=\(seed)")
                records += 1
            }
        }
        print(
            "lazy record states: \(records) records, \(applied) changes, \(leftUnread) written with slots unread, \(erased) erased"
        )
        #expect(records > 150 && applied > 1_000 && leftUnread > 50 && erased > 0)
    }

    @Test func slotsLeftUnreadAreCopiedByteForByteWhateverTheirStringsHold() throws {
        let node = NodeID(rawValue: 0xA)
        var state = RecordState()
        let texts = [#"a"]},[{"b"#, #"\"#, "é 😀 \u{01}", "", #"{"f":"x"}"#, "]", "\\\"]"]
        for (i, text) in texts.enumerated() {
            let change = Change(
                id: ChangeID(origin: node, counter: UInt64(i + 1)),
                time: Timestamp(wallMillis: 1_000, counter: UInt16(i)),
                collection: "seeker", record: "r", field: "notes", key: nil, operation: .set,
                value: .object(["t": .string(text), "n": .array([.int(-1), .number("2.5e3"), .null, .bool(true)])]))
            var keyed = change
            keyed.field = "skills"
            keyed.key = text
            keyed.id.counter += 100
            state.apply(change)
            state.apply(keyed)
        }
        let bytes = state.storedBytes
        var lazy = try LazyRecordState(storedBytes: bytes, limits: limits)
        #expect(lazy.storedBytes == bytes)
        let write = Change(
            id: ChangeID(origin: node, counter: 500), time: Timestamp(wallMillis: 2_000, counter: 0),
            collection: "seeker",
            record: "r", field: "skills", key: "]", operation: .set, value: "new")
        try lazy.apply(write)
        state.apply(write)
        #expect(lazy.written == [SlotKey(field: "skills", key: "]")])
        var whole = LazyRecordState(state)
        try whole.apply(write)
        #expect(whole.written == nil)
        #expect(lazy.storedBytes == state.storedBytes)
        try lazy.parseAll()
        #expect(lazy.state == state)
    }

    @Test func aDamagedSlotLeftUnreadIsFoundWhenItIsRead() throws {
        let good =
            #"{"s":[{"f":"a","v":[["000000000000000a-1","0000000000000001",1]]},{"f":"b","v":[["000000000000000a-2","0000000000000001",2]]}],"w":{"000000000000000a":2}}"#
        #expect(try LazyRecordState(storedBytes: Array(good.utf8), limits: limits).storedBytes == Array(good.utf8))
        // The slot of "b" has an id that is not one: opening reads only keys.
        let damaged = good.replacingOccurrences(of: "000000000000000a-2", with: "not-an-id")
        var lazy = try LazyRecordState(storedBytes: Array(damaged.utf8), limits: limits)
        try lazy.parse(field: "a")
        #expect(throws: (any Error).self) { try lazy.parse(field: "b") }
        // Broken nesting is found on opening.
        for broken in [
            #"{"s":[{"f":"a","v":[["x"]}],"w":{}}"#, #"{"s":[{"f":"a","v":}],"w":{}}"#, #"{"s":[{"f":"a","v":"#,
        ] {
            #expect(throws: (any Error).self, "\(broken)") {
                try LazyRecordState(storedBytes: Array(broken.utf8), limits: limits)
            }
        }
    }

    /// This store writes slots in key order, and a lazy state finds them by
    /// that order; a state stored otherwise (by hand, or by another
    /// implementation) still opens, reads and writes back as the whole
    /// decoder reads it, a key stored twice keeping its later slot.
    @Test func slotsStoredOutOfOrderOrTwiceReadAsTheWholeDecoderReadsThem() throws {
        func slot(_ field: String, _ counter: Int, _ value: Int) -> String {
            #"{"f":"\#(field)","v":[["000000000000000a-\#(counter)","0000000000000001",\#(value)]]}"#
        }
        let text =
            #"{"s":["# + [slot("c", 1, 1), slot("a", 2, 2), slot("b", 3, 3), slot("a", 4, 4)].joined(separator: ",")
            + #"],"w":{"000000000000000a":4}}"#
        let bytes = Array(text.utf8)
        let whole = try RecordState(storedBytes: bytes, limits: limits)
        #expect(whole.slots[SlotKey(field: "a")]?.values.first?.value.value == .int(4))

        let untouched = try LazyRecordState(storedBytes: bytes, limits: limits)
        #expect(untouched.storedBytes == whole.storedBytes)
        #expect(try untouched.storedSlot(SlotKey(field: "a")) == whole.slots[SlotKey(field: "a")])
        #expect(try untouched.storedSlot(SlotKey(field: "z")) == nil)

        var lazy = try LazyRecordState(storedBytes: bytes, limits: limits)
        try lazy.parse(field: "a")
        #expect(lazy.state.slots[SlotKey(field: "a")] == whole.slots[SlotKey(field: "a")])
        #expect(lazy.storedBytes == whole.storedBytes)
        try lazy.parseAll()
        #expect(lazy.isComplete)
        #expect(lazy.state == whole)
    }

    /// A slot as this store writes it is indexed by a quick reader; a slot
    /// in any other form (spaces, members in another order, a member this
    /// version does not know, an escaped name, a repeated member, a key
    /// that is not a string) by the strict one. Each form opens, and reads
    /// back, as the whole decoder reads it, or is refused as it refuses it.
    @Test func slotsInAnyFormAreIndexedAsTheWholeDecoderReadsThem() throws {
        let value = #"[["000000000000000a-1","0000000000000001",1]]"#
        let superseded = #"["000000000000000a-9"]"#
        let forms = [
            #"{"f":"a","k":"x","p":\#(superseded),"v":\#(value)}"#,
            #"{"f":"a","v":\#(value)}"#,
            #"{"f":"a","k":"x"}"#,
            #"{ "f" : "a", "v" : \#(value) }"#,
            #"{"v":\#(value),"f":"a"}"#,
            #"{"f":"a","v":\#(value),"p":\#(superseded)}"#,
            #"{"f":"a","u":{"new":[1,2]},"v":\#(value)}"#,
            #"{"f":"\u0061","k":"\u0078","v":\#(value)}"#,
            #"{"\u0066":"a","v":\#(value)}"#,
            #"{"f":"a","k":7,"v":\#(value)}"#,
            #"{"f":"a","f":"b","v":\#(value)}"#,
            #"{"f":"a","v":\#(value),"v":\#(value)}"#,
            #"{"f":"a","k":"x","k":"y","v":\#(value)}"#,
            #"{"f":"é","v":\#(value)}"#,
            #"{"k":"x","v":\#(value)}"#,
            #"{"f":"a","v":\#(value)"#,
        ]
        var opened = 0
        for form in forms {
            let text = #"{"s":[\#(form),{"f":"b","v":[["000000000000000a-2","0000000000000001",2]]}],"w":{"000000000000000a":2}}"#
            let bytes = Array(text.utf8)
            guard let whole = try? RecordState(storedBytes: bytes, limits: limits) else {
                #expect(throws: (any Error).self, "\(form)") { try LazyRecordState(storedBytes: bytes, limits: limits) }
                continue
            }
            var lazy = try LazyRecordState(storedBytes: bytes, limits: limits)
            for key in whole.slots.keys {
                #expect(try lazy.storedSlot(key) == whole.slots[key], "\(form)")
            }
            // Slots left unread are written back as they were stored.
            #expect(try RecordState(storedBytes: lazy.storedBytes, limits: limits) == whole, "\(form)")
            try lazy.parseAll()
            #expect(lazy.state == whole, "\(form)")
            opened += 1
        }
        // The decoder refuses the three repeated members, the slot with no
        // field and the cut text, and opens the other eleven.
        #expect(opened == 11)
    }
}
