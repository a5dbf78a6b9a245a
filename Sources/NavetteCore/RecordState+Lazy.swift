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
    /// Each slot as stored: its object's byte range in `stored`.
    private let storedSlots: [SlotKey: Range<Int>]
    /// The stored slots not read yet.
    private var unread: [SlotKey: Range<Int>]
    /// The slots changes applied here have written (or erased), for a
    /// state opened from stored bytes; `nil`, not tracked, for one made
    /// from a whole state.
    public private(set) var written: Set<SlotKey>?

    /// A state with nothing left unread (a new record, or one read whole).
    public init(_ state: RecordState) {
        self.state = state
        self.stored = []
        self.limits = .default
        self.storedSlots = [:]
        self.unread = [:]
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
        // A key stored twice: the later slot, as the full decoder keeps it.
        self.storedSlots = Dictionary(slots, uniquingKeysWith: { _, later in later })
        self.unread = storedSlots
        self.written = []
    }

    /// Whether every slot has been read: ``state`` is the whole state.
    public var isComplete: Bool { unread.isEmpty }

    /// Reads the slots of `field` not read yet.
    public mutating func parse(field: String) throws {
        try parse(fields: [field])
    }

    /// Reads the slots of these fields not read yet, in one pass.
    public mutating func parse(fields: Set<String>) throws {
        guard !unread.isEmpty else { return }
        for key in unread.keys.filter({ fields.contains($0.field) }) { try parse(key) }
    }

    /// Reads every slot not read yet.
    public mutating func parseAll() throws {
        for key in Array(unread.keys) { try parse(key) }
    }

    /// A slot as it was stored when this state was opened; `nil` when the
    /// state had no such slot.
    public func storedSlot(_ key: SlotKey) throws -> SlotState? {
        guard let range = storedSlots[key] else { return nil }
        return try readSlot(range)
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
        if state.isErased { unread = [:] }
        return outcome
    }

    /// The stored form of the whole state (``RecordState/storedBytes``):
    /// the slots read are written, the others copied as they were stored.
    public var storedBytes: [UInt8] {
        guard !unread.isEmpty else { return state.storedBytes }
        let raw = unread.map { (key: $0.key, range: $0.value) }.sorted { $0.key < $1.key }
        return state.storedBytes(rawSlots: raw, from: stored)
    }

    /// Reads one slot, if it is still unread.
    private mutating func parse(_ key: SlotKey) throws {
        guard let range = unread.removeValue(forKey: key) else { return }
        state.slots[key] = try readSlot(range)
    }

    private func readSlot(_ range: Range<Int>) throws -> SlotState {
        var parser = StrictJSONParser(bytes: stored, limits: limits)
        parser.i = range.lowerBound
        return try parser.slot(depth: 3).1
    }
}
