/// A current value with its id and time.
public struct ValueRef: Hashable, Sendable {
    public var id: ChangeID
    public var time: Timestamp
    public var value: JSONValue

    public init(id: ChangeID, time: Timestamp, value: JSONValue) {
        self.id = id
        self.time = time
        self.value = value
    }
}

/// An entry of a log field.
public struct LogEntry: Hashable, Sendable {
    /// The entry's key: its time and id, so keys sort chronologically.
    public var key: String
    /// The entry, or `nil` once redacted.
    public var entry: ValueRef?
    public var isRedacted: Bool { entry == nil }
}

/// How a field reads, once its kind's rule has resolved its current values.
public indirect enum FieldView: Hashable, Sendable {
    /// A register (or, for now, a text): the winning value and the losing
    /// concurrent values, which stay until a write that saw them all.
    case register(current: ValueRef?, conflicts: [ValueRef])
    /// A write-once value: the first write.
    case writeOnce(ValueRef?)
    /// A counter's total.
    case counter(Int64)
    /// A flag; `nil` when never set.
    case flag(Bool?)
    /// A set's elements, sorted.
    case set([String])
    /// A map's entries, each a ``register(current:conflicts:)`` or a ``flag(_:)``.
    case map([String: FieldView])
    /// A log's entries, oldest first.
    case log([LogEntry])
    /// A field this version does not know: its slots' raw current values.
    case unknown([SlotKey: [SlotValue]])

    /// Whether the field shows nothing (never written, cleared or erased).
    public var isEmpty: Bool {
        switch self {
        case .register(let c, _): c == nil
        case .writeOnce(let c): c == nil
        case .counter: false
        case .flag(let b): b == nil
        case .set(let e): e.isEmpty
        case .map(let e): e.isEmpty
        case .log(let e): e.isEmpty
        case .unknown(let s): s.values.allSatisfy(\.isEmpty)
        }
    }

    /// The number of conflicting values, in the field or its entries.
    public var conflictCount: Int {
        switch self {
        case .register(_, let c): c.count
        case .map(let entries): entries.values.reduce(0) { $0 + $1.conflictCount }
        default: 0
        }
    }
}

extension RecordState {
    /// Reads a field by its kind's rule.
    ///
    /// - Complexity: O(v log v) in the field's current values.
    public func view(of spec: FieldSpec) -> FieldView {
        switch spec.kind {
        case .lww, .text:
            return Self.register(currentValues(SlotKey(field: spec.name)))
        case .writeOnce:
            let first = currentValues(SlotKey(field: spec.name)).filter { !$0.isTombstone }.last
            return .writeOnce(first.map { ValueRef(id: $0.id, time: $0.time, value: $0.value!) })
        case .counter:
            let total = currentValues(SlotKey(field: spec.name)).reduce(Int64(0)) {
                $0 &+ ($1.value?.intValue ?? 0)
            }
            return .counter(total)
        case .enableWins, .disableWins:
            return Self.flag(currentValues(SlotKey(field: spec.name)), enableWins: spec.kind == .enableWins)
        case .awSet:
            return .set(keys(ofField: spec.name).filter { k in
                currentValues(SlotKey(field: spec.name, key: k)).contains { !$0.isTombstone }
            })
        case .awMap:
            var entries: [String: FieldView] = [:]
            for k in keys(ofField: spec.name) {
                let values = currentValues(SlotKey(field: spec.name, key: k))
                guard values.contains(where: { !$0.isTombstone }) else { continue }
                switch spec.entryKind {
                case .enableWins, .disableWins:
                    entries[k] = Self.flag(values, enableWins: spec.entryKind == .enableWins)
                default:
                    entries[k] = Self.register(values)
                }
            }
            return .map(entries)
        case .log:
            var entries: [LogEntry] = []
            var live: Set<String> = []
            for k in keys(ofField: spec.name) {
                guard let v = currentValues(SlotKey(field: spec.name, key: k)).first(where: { !$0.isTombstone })
                else { continue }
                live.insert(k)
                entries.append(LogEntry(key: k, entry: ValueRef(id: v.id, time: v.time, value: v.value!)))
            }
            for scope in erasures.keys where scope.field == spec.name {
                if let k = scope.key, !live.contains(k) { entries.append(LogEntry(key: k, entry: nil)) }
            }
            return .log(entries.sorted { JSONValue.utf8Less($0.key, $1.key) })
        }
    }

    /// The raw slots of a field this version does not know.
    public func unknownView(of field: String) -> FieldView {
        var slots: [SlotKey: [SlotValue]] = [:]
        for (k, s) in self.slots where k.field == field && !s.values.isEmpty { slots[k] = s.ranked }
        return .unknown(slots)
    }

    static func register(_ values: [SlotValue]) -> FieldView {
        let live = values.filter { !$0.isTombstone }.map { ValueRef(id: $0.id, time: $0.time, value: $0.value!) }
        return .register(current: live.first, conflicts: Array(live.dropFirst()))
    }

    static func flag(_ values: [SlotValue], enableWins: Bool) -> FieldView {
        let bools = values.compactMap { $0.value?.boolValue }
        if bools.isEmpty { return .flag(nil) }
        return .flag(enableWins ? bools.contains(true) : !bools.contains(false))
    }
}
