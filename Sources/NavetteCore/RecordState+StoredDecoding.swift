extension RecordState {
    /// Decodes a stored state (``storedBytes``) in one pass over its bytes,
    /// with no JSON tree built: a store reads a state on every edit and for
    /// every record a batch touches.
    ///
    /// The result, and what is refused, are those of
    /// `RecordState(json: JSONValue(parsing: bytes, limits: limits))`: the
    /// same strict JSON (duplicate keys, depth, size, UTF-8), members in any
    /// order, unknown members skipped.
    ///
    /// - Throws: ``JSONParsingError`` or ``ChangeDecodingError`` when the
    ///   stored state is damaged.
    public init(storedBytes bytes: [UInt8], limits: JSONParsingLimits) throws {
        try limits.checkSize(bytes.count)
        var parser = StrictJSONParser(bytes: bytes, limits: limits)
        do {
            self = try parser.storedState()
        } catch is ChangeDecodingError {
            // Damaged in its structure: the tree decoder defines what, if
            // anything, such a state holds (an erased state's other members
            // are not read, for one).
            self = try RecordState(json: JSONValue(parsing: bytes, limits: limits))
        }
    }
}

/// The reader behind ``RecordState/init(storedBytes:limits:)``, on the
/// strict parser's own loops. Depths are those the tree parser counts: the
/// state is at depth 1, its slots at 3, a slot's values at 5.
extension StrictJSONParser {
    func bad() -> ChangeDecodingError { ChangeDecodingError("a stored record state is damaged") }

    mutating func storedState() throws -> RecordState { try storedState(indexingSlots: false).state }

    /// The stored state; when `indexingSlots`, its slots are not read: each
    /// slot's key and the byte range of its object are returned instead.
    mutating func storedState(indexingSlots: Bool) throws -> (
        state: RecordState, slots: [(key: SlotKey, range: Range<Int>)]
    ) {
        var state = RecordState()
        var ranges: [(key: SlotKey, range: Range<Int>)] = []
        // A seeker's file holds 40 to 60 slots.
        if indexingSlots { ranges.reserveCapacity(64) }
        var erasedAt: Stamp?
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else {
            // Not an object: the JSON must still be valid before it is refused.
            _ = try parseDocument()
            throw bad()
        }
        try uniqueMembers(depth: 1) { r, key in
            switch key {
            case "x": erasedAt = try r.stamp(depth: 2)
            case "s" where indexingSlots:
                try r.arrayOrSkip(depth: 2) { r in
                    r.skipWhitespace()
                    let start = r.i
                    let key = try r.canonicalSlotKey() ?? r.slotKey(depth: 3)
                    ranges.append((key: key, range: start..<r.i))
                }
            case "s":
                try r.arrayOrSkip(depth: 2) { r in
                    let (key, slot) = try r.slot(depth: 3)
                    state.slots[key] = slot
                }
            case "w": state.writers = try r.counters(depth: 2)
            case "d": state.deletions = try r.counters(depth: 2)
            case "e":
                try r.arrayOrSkip(depth: 2) { r in
                    var field: String?, slotKey: String?, time: Stamp?
                    try r.objectOrBad(depth: 3) { r, key in
                        switch key {
                        case "f": field = try r.value(depth: 3).stringValue
                        case "k": slotKey = try r.value(depth: 3).stringValue
                        case "t": time = try r.stamp(depth: 4)
                        default: _ = try r.value(depth: 3)
                        }
                    }
                    guard let field, let time else { throw r.bad() }
                    state.erasures[SlotKey(field: field, key: slotKey)] = time
                }
            default: _ = try r.value(depth: 1)
            }
        }
        skipWhitespace()
        guard i == bytes.count else { throw fail("trailing-content", "unexpected content after the JSON value") }
        if let erasedAt {
            state = RecordState()
            state.erasedAt = erasedAt
            ranges = []
        }
        return (state, ranges)
    }

    /// A slot's key (`f`, `k`), its other members passed over unread
    /// (``skipValue()``).
    mutating func slotKey(depth: Int) throws -> SlotKey {
        var field: String?, key: String?
        try objectOrBad(depth: depth) { r, name in
            switch name {
            case "f": field = try r.value(depth: depth).stringValue
            case "k": key = try r.value(depth: depth).stringValue
            default: try r.skipValue()
            }
        }
        guard let field else { throw bad() }
        return SlotKey(field: field, key: key)
    }

    /// A slot's key, read the quick way when the slot is exactly as this
    /// store writes it: `{"f":"…"`, then `,"k":"…"`, `,"p":` and `,"v":`,
    /// each optional and in that order, then `}`, with no whitespace and
    /// plain ASCII names. `nil`, with nothing consumed, for any other form,
    /// which ``slotKey(depth:)`` then reads (and refuses if it must).
    ///
    /// Opening a seeker's state for an edit indexes its 40 to 60 slots; read
    /// member by member, each slot's four names and two strings made 7% of
    /// an edit's CPU time. What this accepts, the strict reader accepts with
    /// the same key and end: the names are strictly increasing, so none
    /// repeats, and `p` and `v` are passed over by ``skipValue()`` in both.
    mutating func canonicalSlotKey() -> SlotKey? {
        let start = i
        guard let key = canonicalSlotKeyMembers() else {
            i = start
            return nil
        }
        return key
    }

    /// ``canonicalSlotKey()``'s reading, which may stop anywhere.
    private mutating func canonicalSlotKeyMembers() -> SlotKey? {
        guard limits.maximumDepth >= 3, literal(#"{"f":"#), let field = plainString() else { return nil }
        var key: Range<Int>?
        if literal(#","k":"#) {
            guard let k = plainString() else { return nil }
            key = k
        }
        if literal(#","p":"#), (try? skipValue()) == nil { return nil }
        if literal(#","v":"#), (try? skipValue()) == nil { return nil }
        guard literal("}") else { return nil }
        return SlotKey(
            field: String(decoding: bytes[field], as: UTF8.self),
            key: key.map { String(decoding: bytes[$0], as: UTF8.self) })
    }

    /// Moves past `text` if the bytes here are exactly it.
    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        let start = text.utf8Start
        for k in 0..<count where bytes[i + k] != start[k] { return false }
        i += count
        return true
    }

    /// Moves past one value without reading it: only strings and nesting
    /// are followed, nothing else is validated. For a stored slot left
    /// unread, which is validated if it is read later.
    mutating func skipValue() throws {
        skipWhitespace()
        let start = i
        // On the buffer itself, with no bounds check per byte: an edit's
        // opening passes over most of a 4.4 KB state here.
        let (end, complete) = bytes.withUnsafeBufferPointer { b -> (Int, Bool) in
            var j = start
            var nesting = 0
            while j < b.count {
                switch b[j] {
                case UInt8(ascii: "\""):
                    // A string: to its closing quote, past escaped characters.
                    j += 1
                    while j < b.count, b[j] != UInt8(ascii: "\"") {
                        j += b[j] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    guard j < b.count else { return (j, false) }
                    if nesting == 0 { return (j + 1, true) }
                case UInt8(ascii: "{"), UInt8(ascii: "["): nesting += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    // At the outer level: the end of the enclosing value.
                    if nesting == 0 { return (j, true) }
                    nesting -= 1
                    if nesting == 0 { return (j + 1, true) }
                case UInt8(ascii: ","), 0x20, 0x0A, 0x0D, 0x09:
                    if nesting == 0 { return (j, true) }
                default: break
                }
                j += 1
            }
            return (j, nesting == 0)
        }
        i = min(end, bytes.count)
        // Here only a number or a literal may end, and it may not be empty.
        guard complete, i > start else {
            throw fail("truncated", "the JSON text ends inside a value, or a value is missing")
        }
    }

    /// A slot: `f` (required), `k`, `v` (values) and `p` (superseded ids).
    mutating func slot(depth: Int) throws -> (SlotKey, SlotState) {
        var field: String?, key: String?
        var slot = SlotState()
        try objectOrBad(depth: depth) { r, name in
            switch name {
            case "f": field = try r.value(depth: depth).stringValue
            case "k": key = try r.value(depth: depth).stringValue
            case "v":
                try r.arrayOrSkip(depth: depth + 1) { r in
                    let v = try r.slotValue(depth: depth + 2)
                    slot.values[v.id] = v
                }
            case "p":
                try r.arrayOrSkip(depth: depth + 1) { r in
                    guard let id = try r.changeID(depth: depth + 1) else { throw r.bad() }
                    slot.superseded.insert(id)
                }
            default: _ = try r.value(depth: depth)
            }
        }
        guard let field else { throw bad() }
        return (SlotKey(field: field, key: key), slot)
    }

    /// `[id, time]` or `[id, time, value]`; elements past the third are read
    /// and ignored, as the tree decoder does.
    mutating func slotValue(depth: Int) throws -> SlotValue {
        guard peek() == UInt8(ascii: "[") else {
            _ = try value(depth: depth - 1)
            throw bad()
        }
        var id: ChangeID?, time: Timestamp?, value: JSONValue?
        var index = 0
        var malformed = false
        try readArray(depth: depth) { r in
            switch index {
            case 0: id = try r.changeID(depth: depth); malformed = malformed || id == nil
            case 1: time = try r.timestamp(depth: depth); malformed = malformed || time == nil
            case 2: value = try r.value(depth: depth)
            default: _ = try r.value(depth: depth)
            }
            index += 1
        }
        guard !malformed, let id, let time else { throw bad() }
        return SlotValue(id: id, time: time, value: value)
    }

    /// `[time, node]`.
    mutating func stamp(depth: Int) throws -> Stamp {
        let v = try value(depth: depth - 1)
        guard let a = v.arrayValue, a.count == 2, let t = a[0].stringValue.flatMap(Timestamp.init),
            let n = a[1].stringValue.flatMap(NodeID.init)
        else { throw bad() }
        return Stamp(time: t, node: n)
    }

    /// `{node: counter}` with counters ≥ 0.
    mutating func counters(depth: Int) throws -> [NodeID: UInt64] {
        var out: [NodeID: UInt64] = [:]
        try objectOrBad(depth: depth) { r, key in
            let c = try r.value(depth: depth)
            guard let node = NodeID(key), let n = c.counterValue else { throw r.bad() }
            out[node] = n
        }
        return out
    }

    /// A string that must be a change id: `nil` if it is not one (or not a
    /// string). Plain strings are read in place, escaped ones decoded.
    mutating func changeID(depth: Int) throws -> ChangeID? {
        skipWhitespace()
        if peek() == UInt8(ascii: "\""), let range = plainString() { return ChangeID(utf8: bytes[range]) }
        return try value(depth: depth).stringValue.flatMap(ChangeID.init)
    }

    mutating func timestamp(depth: Int) throws -> Timestamp? {
        skipWhitespace()
        if peek() == UInt8(ascii: "\""), let range = plainString() { return parseHex16(bytes[range]).map(Timestamp.init(rawValue:)) }
        return try value(depth: depth).stringValue.flatMap(Timestamp.init)
    }

    /// Any JSON value, as the tree parser reads it at `depth`.
    mutating func value(depth: Int) throws -> JSONValue {
        skipWhitespace()
        return try parseValue(depth: depth)
    }

    func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    /// An object's members, each read by `member`; an object is required.
    mutating func objectOrBad(depth: Int, _ member: (inout Self, String) throws -> Void) throws {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else {
            _ = try value(depth: depth - 1)
            throw bad()
        }
        try uniqueMembers(depth: depth, member)
    }

    /// An object's members, each read by `member`, a repeated key refused
    /// as the tree parser refuses it.
    mutating func uniqueMembers(depth: Int, _ member: (inout Self, String) throws -> Void) throws {
        // A state's objects mostly have a few members (a slot has at most
        // four): repeats are looked for among the first eight kept inline
        // (no allocation per object: a state opened for an edit has 50
        // slots), in a set past them.
        var few = InlineArray<8, String>(repeating: "")
        var count = 0
        var many: Set<String>?
        try readObject(depth: depth) { p, key, keyOffset in
            if many != nil {
                guard many!.insert(key).inserted else { throw Self.duplicateKey(at: keyOffset) }
            } else {
                for j in 0..<count where few[j] == key { throw Self.duplicateKey(at: keyOffset) }
                if count < 8 {
                    few[count] = key
                    count += 1
                } else {
                    var set = Set([key])
                    for j in 0..<count { set.insert(few[j]) }
                    many = set
                }
            }
            try member(&p, key)
        }
    }

    /// An array's elements, each read by `element`; anything else is read
    /// and ignored, as the tree decoder ignores a member that is not an array.
    mutating func arrayOrSkip(depth: Int, _ element: (inout Self) throws -> Void) throws {
        skipWhitespace()
        guard peek() == UInt8(ascii: "[") else {
            _ = try value(depth: depth - 1)
            return
        }
        try readArray(depth: depth, element)
    }
}
