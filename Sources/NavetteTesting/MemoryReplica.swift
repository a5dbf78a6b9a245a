import NavetteCore

/// A replica held in memory, with the same merge rules as the SQLite
/// store (both apply changes through ``RecordState``): convergence tests run
/// thousands of schedules on it, and some through the real store.
///
/// Like the store, it keeps a change log, stores a change covered by an
/// erasure in purged form, drops changes for erased records, and purges its
/// log when an erasure arrives.
public struct MemoryReplica: Sendable {
    public var editor: LocalEditor
    public private(set) var states: [RecordKey: RecordState] = [:]
    /// The change log, in arrival order.
    public private(set) var log: [Change] = []
    private var index: [ChangeID: Int] = [:]

    /// A record, by collection and id.
    public struct RecordKey: Hashable, Sendable {
        public var collection: String
        public var id: String
        public init(_ collection: String, _ id: String) {
            self.collection = collection
            self.id = id
        }
    }

    public init(node: NodeID, schema: Schema = .navette) {
        self.editor = LocalEditor(node: node, schema: schema)
    }

    public var node: NodeID { editor.node }

    /// The state of a record (empty if never seen).
    public func state(_ collection: String, _ id: String) -> RecordState {
        states[RecordKey(collection, id)] ?? RecordState()
    }

    /// Makes a local edit and applies it.
    ///
    /// - Throws: ``ValidationError`` when the edit is invalid.
    @discardableResult
    public mutating func edit(_ collection: String, _ id: String, _ edit: Edit, wallMillis: UInt64) throws -> Change {
        let change = try editor.change(
            for: edit, collection: collection, record: id, state: state(collection, id), wallMillis: wallMillis)
        apply([change])
        return change
    }

    /// Applies changes from a peer: idempotent, in any order.
    public mutating func apply(_ changes: [Change]) {
        for change in changes where index[change.id] == nil {
            let key = RecordKey(change.collection, change.record)
            var s = states[key] ?? RecordState()
            let outcome = s.apply(change)
            switch outcome {
            case .dropped: break
            case .purgedOnArrival: append(change.purged)
            case .applied, .notUnderstood: append(change)
            case .erasedScope(let scope, let before, let whole):
                append(change)
                purge {
                    $0.collection == key.collection && $0.record == key.id && $0.field == scope.field
                        && (whole || $0.key == scope.key) && $0.stamp < before
                }
            case .erasedRecord:
                append(change)
                purge { $0.collection == key.collection && $0.record == key.id && $0.id != change.id }
            }
            states[key] = s
        }
    }

    private mutating func append(_ change: Change) {
        index[change.id] = log.count
        log.append(change)
    }

    private mutating func purge(where matches: (Change) -> Bool) {
        for i in log.indices where log[i].operation != .erase && log[i].value != nil && matches(log[i]) {
            log[i] = log[i].purged
        }
    }

    /// The canonical export (``CanonicalExport``).
    public func export() -> String {
        CanonicalExport.document(
            records: states.map { ($0.key.collection, $0.key.id, $0.value) }, schema: editor.schema
        ).canonicalString
    }
}
