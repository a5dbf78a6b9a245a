/// A stored record state opened for a write, whose slots are read only
/// when something needs them.
///
/// A batch of remote changes usually writes one or two slots of a record
/// that has dozens: a seeker's file holds 40 to 60. Reading the whole
/// state, then writing it all back, cost more than everything else the
/// batch did. Here the record's other members are read at once, but each
/// slot stays as its stored bytes, with only its key read, until a change
/// writes it or ``parse(field:)`` asks for it. ``storedBytes`` copies the
/// unread slots back as they were.
///
/// ```swift
/// var lazy = try LazyRecordState(storedBytes: bytes, limits: limits)
/// lazy.apply(change)           // reads the one slot the change writes
/// try lazy.parse(field: "agency")
/// lazy.state                   // every member, but only the slots read
/// let bytes = lazy.storedBytes // the same as the full state's storedBytes
/// ```
public struct LazyRecordState: Sendable {
    /// The state, complete but for the slots not read yet: ``state``'s
    /// `slots` holds only the slots read.
    public private(set) var state: RecordState
    /// The stored bytes the state was opened from.
    private let stored: [UInt8]
    private let limits: JSONParsingLimits
    /// Each slot as stored, its key and its object's byte range in
    /// `stored`, in key order (the order they are stored in): found by
    /// binary search and written back in order, with no hashing or sorting
    /// of keys, which cost an edit more than its one slot's parse.
    private let storedSlots: [(key: SlotKey, range: Range<Int>)]
    /// Whether each of `storedSlots` is still unread.
    private var isUnread: [Bool]
    /// How many of `storedSlots` are still unread.
    private var unreadCount: Int
    /// The slots changes applied here have written (or erased), for a
    /// state opened from stored bytes; `nil`, not tracked, for one made
    /// from a whole state.
    public private(set) var written: Set<SlotKey>?

    /// A state with nothing left unread (a new record, or one read whole).
    public init(_ state: RecordState) {
        self.state = state
        self.stored = []
        self.limits = .default
        self.storedSlots = []
        self.isUnread = []
        self.unreadCount = 0
    }

    /// Opens a stored state (``RecordState/storedBytes``), reading all but
    /// its slots, of which only the keys are read.
    ///
    /// - Throws: ``JSONParsingError`` or ``ChangeDecodingError`` when what is
    ///   read is damaged. A damaged slot left unread is found only if it is
    ///   read.
    public init(storedBytes bytes: [UInt8], limits: JSONParsingLimits) throws {
        try limits.checkSize(bytes.count)
        var parser = StrictJSONParser(bytes: bytes, limits: limits)
        let (state, slots) = try parser.storedState(indexingSlots: true)
        self.state = state
        self.stored = bytes
        self.limits = limits
        self.storedSlots = Self.inKeyOrder(slots)
        self.isUnread = Array(repeating: true, count: storedSlots.count)
        self.unreadCount = storedSlots.count
        self.written = []
    }

    /// The slots in key order, each key once. States this store writes
    /// keep their slots in key order already; others are sorted here. A key
    /// stored twice keeps its later slot, as the full decoder does.
    private static func inKeyOrder(
        _ slots: [(key: SlotKey, range: Range<Int>)]
    ) -> [(key: SlotKey, range: Range<Int>)] {
        var ordered = true
        for i in slots.indices.dropFirst() where !(slots[i - 1].key < slots[i].key) {
            ordered = false
            break
        }
        if ordered { return slots }
        let later = Dictionary(slots.map { ($0.key, $0.range) }, uniquingKeysWith: { _, later in later })
        return later.map { (key: $0.key, range: $0.value) }.sorted { $0.key < $1.key }
    }

    /// The index of `key` in `storedSlots`, by binary search.
    private func index(of key: SlotKey) -> Int? {
        var low = 0
        var high = storedSlots.count
        while low < high {
            let mid = (low + high) / 2
            if storedSlots[mid].key < key { low = mid + 1 } else { high = mid }
        }
        return low < storedSlots.count && storedSlots[low].key == key ? low : nil
    }

    /// Whether every slot has been read: ``state`` is the whole state.
    public var isComplete: Bool { unreadCount == 0 }

    /// Reads the slots of `field` not read yet.
    public mutating func parse(field: String) throws {
        try parse(fields: [field])
    }

    /// Reads the slots of these fields not read yet, in one pass.
    public mutating func parse(fields: Set<String>) throws {
        guard unreadCount > 0 else { return }
        for i in storedSlots.indices where isUnread[i] && fields.contains(storedSlots[i].key.field) { try parse(at: i) }
    }

    /// Reads every slot not read yet.
    public mutating func parseAll() throws {
        for i in storedSlots.indices where isUnread[i] { try parse(at: i) }
    }

    /// A slot as it was stored when this state was opened; `nil` when the
    /// state had no such slot.
    public func storedSlot(_ key: SlotKey) throws -> SlotState? {
        guard let i = index(of: key) else { return nil }
        return try readSlot(storedSlots[i].range)
    }

    /// Applies a change (see ``RecordState/apply(_:)``), reading first the
    /// slots it writes or erases.
    @discardableResult
    public mutating func apply(_ change: Change) throws -> ApplyOutcome {
        if !state.isErased, written != nil {
            switch change.operation {
            case .set, .remove, .increment, .append:
                if let key = change.slot {
                    try parse(key)
                    written!.insert(key)
                }
            case .erase:
                if let field = change.field {
                    try parse(field: field)
                    written!.formUnion(state.slots.keys.filter { $0.field == field })
                }
            case .delete, .other: break
            }
        }
        let outcome = state.apply(change)
        if state.isErased, unreadCount > 0 {
            // An erased state has no slots: the unread ones are dropped.
            isUnread = Array(repeating: false, count: storedSlots.count)
            unreadCount = 0
        }
        return outcome
    }

    /// The stored form of the whole state (``RecordState/storedBytes``):
    /// the slots read are written, the others copied as they were stored.
    public var storedBytes: [UInt8] {
        guard unreadCount > 0 else { return state.storedBytes }
        var raw: [(key: SlotKey, range: Range<Int>)] = []
        raw.reserveCapacity(unreadCount)
        for i in storedSlots.indices where isUnread[i] { raw.append(storedSlots[i]) }
        return state.storedBytes(rawSlots: raw, from: stored)
    }

    /// Reads one slot, if it is still unread.
    private mutating func parse(_ key: SlotKey) throws {
        guard unreadCount > 0, let i = index(of: key) else { return }
        try parse(at: i)
    }

    private mutating func parse(at i: Int) throws {
        guard isUnread[i] else { return }
        state.slots[storedSlots[i].key] = try readSlot(storedSlots[i].range)
        isUnread[i] = false
        unreadCount -= 1
    }

    private func readSlot(_ range: Range<Int>) throws -> SlotState {
        var parser = StrictJSONParser(bytes: stored, limits: limits)
        parser.i = range.lowerBound
        return try parser.slot(depth: 3).1
    }
}
