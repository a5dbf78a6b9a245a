/// A counsellor's intent on one field of one record, before it becomes a
/// ``Change``.
public enum Edit: Hashable, Sendable {
    /// Sets a register, text, write-once value or flag.
    case set(String, JSONValue)
    /// Clears a register or text.
    case clear(String)
    /// Adds an element to a set.
    case add(String, element: String)
    /// Removes an element from a set.
    case removeElement(String, element: String)
    /// Sets a map entry.
    case put(String, key: String, JSONValue)
    /// Removes a map entry.
    case removeEntry(String, key: String)
    /// Adds to a counter (a negative amount subtracts).
    case increment(String, by: Int64)
    /// Appends an entry to a log.
    case append(String, JSONValue)
    /// Redacts one log entry: its content is erased on every replica.
    case redact(String, entry: String)
    /// Erases every value of a field written so far, on every replica.
    case eraseField(String)
    /// Deletes the record (a concurrent edit elsewhere brings it back).
    case deleteRecord
    /// Erases the record and everything it held, for good.
    case eraseRecord

    /// The field the edit targets, if any.
    public var field: String? {
        switch self {
        case .set(let f, _), .clear(let f), .add(let f, _), .removeElement(let f, _), .put(let f, _, _),
            .removeEntry(let f, _), .increment(let f, _), .append(let f, _), .redact(let f, _), .eraseField(let f):
            f
        case .deleteRecord, .eraseRecord: nil
        }
    }
}

/// Turns local edits into changes: validates them against the schema, stamps
/// them with the node's clock and counter, and fills in `pred` from the
/// record's current state.
///
/// ```swift
/// var editor = LocalEditor(node: me, schema: .navette)
/// let change = try editor.change(for: .set("contact.phone", "0612345678"),
///                                collection: "seeker", record: id,
///                                state: state, wallMillis: now)
/// state.apply(change)
/// ```
public struct LocalEditor: Sendable {
    public let node: NodeID
    public let schema: Schema
    /// The node's clock; persist it with ``counter`` after each change.
    public var clock: HybridLogicalClock
    /// The counter of the node's last change.
    public var counter: UInt64

    public init(node: NodeID, schema: Schema = .navette, clock: HybridLogicalClock = .init(), counter: UInt64 = 0) {
        self.node = node
        self.schema = schema
        self.clock = clock
        self.counter = counter
    }

    /// Checks an edit without making a change.
    ///
    /// - Throws: ``ValidationError`` naming the field and the rule broken.
    public func validate(_ edit: Edit, collection: String, state: RecordState) throws {
        guard let spec = schema.collection(collection) else {
            throw ValidationError(
                field: collection, rule: "a collection of schema \(schema.version)",
                problem: "this collection does not exist")
        }
        if state.isErased {
            throw ValidationError(field: "record", rule: "a record that exists", problem: "the record was erased")
        }
        if state.isDeleted, edit != .eraseRecord {
            throw ValidationError(field: "record", rule: "a record that exists", problem: "the record was deleted")
        }
        guard let name = edit.field else { return }
        guard let field = spec.field(name) else {
            throw ValidationError(
                field: name, rule: "a field of \(collection)", problem: "\(collection) has no such field")
        }
        func wrongKind(_ verb: String) -> ValidationError {
            ValidationError(field: name, rule: "an edit a \(field.kind.rawValue) field allows", problem: "cannot \(verb) it")
        }
        func check(_ type: ValueType, _ value: JSONValue, _ label: String) throws {
            if let problem = type.problem(with: value) {
                throw ValidationError(field: label, rule: type.summary, problem: problem)
            }
        }
        switch edit {
        case .set(_, let value):
            switch field.kind {
            case .lww, .text: try check(field.type, value, name)
            case .writeOnce:
                try check(field.type, value, name)
                if case .writeOnce(let v?) = state.view(of: field), v.value != value {
                    throw ValidationError(field: name, rule: "a write-once value", problem: "it is already set")
                }
            case .enableWins, .disableWins: try check(.bool, value, name)
            default: throw wrongKind("set")
            }
        case .clear:
            guard field.kind == .lww || field.kind == .text else { throw wrongKind("clear") }
        case .add(_, let element), .removeElement(_, let element):
            guard field.kind == .awSet else { throw wrongKind(edit.verb) }
            try check(field.type, .string(element), name)
        case .put(_, let key, let value):
            guard field.kind == .awMap else { throw wrongKind("put an entry in") }
            try check(field.keyType ?? .string(maxLength: 64), .string(key), "\(name) key")
            try check(field.entryKind == .lww ? field.type : .bool, value, "\(name)[\(key)]")
        case .removeEntry(_, let key):
            guard field.kind == .awMap else { throw wrongKind("remove an entry of") }
            try check(field.keyType ?? .string(maxLength: 64), .string(key), "\(name) key")
        case .increment(_, let amount):
            guard field.kind == .counter else { throw wrongKind("increment") }
            try check(field.type, .int(amount), name)
        case .append(_, let value):
            guard field.kind == .log else { throw wrongKind("append to") }
            try check(field.type, value, name)
        case .redact(_, let entry):
            guard field.kind == .log else { throw wrongKind("redact an entry of") }
            guard case .log(let entries) = state.view(of: field), entries.contains(where: { $0.key == entry }) else {
                throw ValidationError(field: name, rule: "an entry of the log", problem: "no entry has this key")
            }
        case .eraseField, .deleteRecord, .eraseRecord:
            break
        }
    }

    /// Validates `edit` and makes its change.
    ///
    /// - Parameters:
    ///   - state: the record's current state; `pred` is taken from it.
    ///   - wallMillis: the node's corrected wall time.
    /// - Throws: ``ValidationError``, or ``HybridLogicalClock/Error``.
    public mutating func change(
        for edit: Edit, collection: String, record: String, state: RecordState, wallMillis: UInt64
    ) throws -> Change {
        try validate(edit, collection: collection, state: state)
        let time = try clock.tick(wallMillis: wallMillis)
        counter += 1
        let id = ChangeID(origin: node, counter: counter)
        func make(_ op: Operation, _ field: String?, key: String? = nil, value: JSONValue? = nil, pred: [ChangeID] = [])
            -> Change
        {
            Change(
                id: id, time: time, collection: collection, record: record, field: field, key: key, operation: op,
                value: value, pred: pred)
        }
        func current(_ f: String, _ k: String? = nil) -> [ChangeID] { state.currentIDs(SlotKey(field: f, key: k)) }
        switch edit {
        case .set(let f, let v):
            let kind = schema.field(collection, f)!.kind
            return make(.set, f, value: v, pred: kind == .writeOnce ? [] : current(f))
        case .clear(let f): return make(.remove, f, pred: current(f))
        case .add(let f, let e): return make(.set, f, key: e, value: true, pred: current(f, e))
        case .removeElement(let f, let e): return make(.remove, f, key: e, pred: current(f, e))
        case .put(let f, let k, let v): return make(.set, f, key: k, value: v, pred: current(f, k))
        case .removeEntry(let f, let k): return make(.remove, f, key: k, pred: current(f, k))
        case .increment(let f, let n): return make(.increment, f, value: .int(n))
        case .append(let f, let v): return make(.append, f, key: "\(time).\(id)", value: v)
        case .redact(let f, let entry): return make(.erase, f, key: entry)
        case .eraseField(let f): return make(.erase, f)
        case .deleteRecord:
            var c = make(.delete, nil)
            c.seen = state.writers
            return c
        case .eraseRecord: return make(.erase, nil)
        }
    }
}

extension Edit {
    var verb: String {
        switch self {
        case .add: "add an element to"
        case .removeElement: "remove an element from"
        default: "edit"
        }
    }
}
