/// What a change does to its target.
///
/// The operations are generic over field kinds: a schema gives each field
/// a kind, and the kind decides how the *current values* of a slot are read
/// (see ``FieldKind``). A change from a newer peer may name an operation this
/// version does not know (``other(_:)``): it is stored and relayed unchanged,
/// never refused, and has no effect until an upgrade knows it.
public enum Operation: Hashable, Sendable {
    /// Writes `value` into a slot, superseding the values named by `pred`.
    case set
    /// Writes a tombstone into a slot, superseding the values named by `pred`
    /// (removes a set element or map entry, clears a register).
    case remove
    /// Adds `value` (an integer) to a counter.
    case increment
    /// Appends `value` as a new log entry; the change's `key` names the entry.
    case append
    /// Purges every value of the target written before this change (by
    /// stamp), wherever it is stored: a whole record, one field, or one slot.
    case erase
    /// Deletes the record, unless it has changes the deleter had not seen
    /// (``Change/seen``): a concurrent edit cancels the deletion.
    case delete
    /// An operation this version does not know.
    case other(String)

    /// The operation's name on the wire.
    public var name: String {
        switch self {
        case .set: "set"
        case .remove: "remove"
        case .increment: "increment"
        case .append: "append"
        case .erase: "erase"
        case .delete: "delete"
        case .other(let n): n
        }
    }

    /// The operation named `name` on the wire.
    public init(name: String) {
        switch name {
        case "set": self = .set
        case "remove": self = .remove
        case "increment": self = .increment
        case "append": self = .append
        case "erase": self = .erase
        case "delete": self = .delete
        default: self = .other(name)
        }
    }

    /// Whether the operation writes a value into a slot.
    public var writesSlot: Bool {
        switch self {
        case .set, .remove, .increment, .append: true
        default: false
        }
    }
}

/// An immutable change to one record: the unit that replicas exchange.
///
/// A change is identified by ``id`` (its origin node and that node's
/// counter); the value it writes is identified by the same id. It carries its
/// hybrid logical clock time, its target (collection, record, and for field
/// operations a field and, in sets, maps and logs, a key), the operation, the
/// value, and for writes `pred`: the ids of the values the writer saw as
/// current in that slot. A slot's current values are those no `pred` names.
///
/// Encoded as canonical JSON (``jsonValue``), with absent members left out:
///
/// ```json
/// {"collection":"seeker","field":"contact.phone","id":"00000000000000a1-7",
///  "op":"set","pred":["00000000000000b2-3"],"record":"6f1c…",
///  "time":"018bcfe568000000","value":"06 12 34 56 78"}
/// ```
///
/// Erasure may later *purge* a change: its ``value`` is removed and
/// ``isPurged`` set, while its id, time, target and `pred` stay, so that
/// it still supersedes what it superseded.
public struct Change: Hashable, Sendable, Identifiable {
    public var id: ChangeID
    public var time: Timestamp
    public var collection: String
    public var record: String
    /// The field, for field operations; `nil` for record deletion and erasure.
    public var field: String?
    /// The slot within the field: a set element, a map key, a log entry id.
    public var key: String?
    public var operation: Operation
    /// The value written; `nil` for operations without one and once purged.
    public var value: JSONValue?
    /// The values this write saw as current in its slot, sorted.
    public var pred: [ChangeID]
    /// For ``Operation/delete``: per node, the greatest counter of that node's
    /// changes to this record the deleter had applied.
    public var seen: [NodeID: UInt64]
    /// Whether erasure removed this change's value.
    public var isPurged: Bool
    /// Members of the encoded change this version does not know, relayed
    /// unchanged.
    public var unknownMembers: [String: JSONValue]

    public init(
        id: ChangeID, time: Timestamp, collection: String, record: String, field: String? = nil,
        key: String? = nil, operation: Operation, value: JSONValue? = nil, pred: [ChangeID] = [],
        seen: [NodeID: UInt64] = [:], isPurged: Bool = false, unknownMembers: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.time = time
        self.collection = collection
        self.record = record
        self.field = field
        self.key = key
        self.operation = operation
        self.value = value
        self.pred = Array(Set(pred)).sorted()
        self.seen = seen
        self.isPurged = isPurged
        self.unknownMembers = unknownMembers
    }

    /// The rank of this change's value among concurrent values.
    public var stamp: Stamp { Stamp(time: time, node: id.origin) }

    /// The slot this change writes, if it writes one.
    public var slot: SlotKey? {
        guard operation.writesSlot, let field else { return nil }
        return SlotKey(field: field, key: key)
    }

    /// This change with its value removed, as erasure leaves it.
    public var purged: Change {
        var c = self
        c.value = nil
        c.isPurged = true
        return c
    }
}

/// A slot of a record: a field, or one element, entry or log entry of it.
public struct SlotKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var field: String
    public var key: String?

    public init(field: String, key: String? = nil) {
        self.field = field
        self.key = key
    }

    public static func < (a: SlotKey, b: SlotKey) -> Bool {
        if a.field != b.field { return JSONValue.utf8Less(a.field, b.field) }
        switch (a.key, b.key) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case (let x?, let y?): return JSONValue.utf8Less(x, y)
        }
    }

    public var description: String { key.map { "\(field)[\($0)]" } ?? field }
}
