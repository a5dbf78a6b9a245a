import GRDB
import NavetteCore

/// Who a node works for, which decides the records it holds.
public struct ViewSpec: Hashable, Sendable {
    public var agency: String
    public var counsellor: String?
    /// A reception desk's view: every seeker of the agency.
    public var agencyWide: Bool

    public init(agency: String, counsellor: String?, agencyWide: Bool) {
        self.agency = agency
        self.counsellor = counsellor
        self.agencyWide = agencyWide
    }
}

extension RecordStore {
    /// The fields a stub carries: identity and contact only.
    public static func isStubField(_ field: String?) -> Bool {
        guard let field else { return true }
        return field.hasPrefix("identity.") || field.hasPrefix("contact.")
    }

    /// The records a node with `spec` may hold, each marked `true` when it
    /// holds only a stub (identity and contact).
    ///
    /// Full: the seekers its counsellor follows (referent or temporary
    /// follower; every seeker of the agency when the view is agency-wide),
    /// the agency's other records, its agency record, and the national
    /// workshop catalogue. Stubs: seekers registered to sessions its
    /// counsellor facilitates. Erased records are in no view.
    public func view(_ spec: ViewSpec) throws -> [RecordRef: Bool] {
        try queue.reading { db in
            var out: [RecordRef: Bool] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT collection, id FROM record WHERE erased = 0 AND collection != 'seeker'
                    AND (agency = :a OR (collection = 'workshop' AND agency IS NULL) OR (collection = 'agency' AND id = :a))
                    """, arguments: ["a": spec.agency])
            {
                out[RecordRef(row["collection"], row["id"])] = false
            }
            let seekers: [String]
            if spec.agencyWide {
                seekers = try String.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT id FROM record WHERE collection = 'seeker' AND erased = 0 AND agency = ?"),
                    arguments: [spec.agency])
            } else if let c = spec.counsellor {
                seekers = try String.fetchAll(
                    db,
                    sql: """
                        SELECT r.id FROM record r JOIN record_link l
                        ON l.collection = 'seeker' AND l.record = r.id AND l.role = 'follower' AND l.value = ?
                        WHERE r.collection = 'seeker' AND r.erased = 0 AND r.agency = ?
                        """, arguments: [c, spec.agency])
            } else {
                seekers = []
            }
            for s in seekers { out[RecordRef("seeker", s)] = false }
            if let c = spec.counsellor {
                for s in try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT ls.value FROM record_link ls
                        JOIN record_link lx ON lx.collection = 'registration' AND lx.record = ls.record AND lx.role = 'session'
                        JOIN record_link lf ON lf.collection = 'workshopSession' AND lf.record = lx.value
                            AND lf.role = 'facilitator' AND lf.value = ?
                        JOIN record r ON r.collection = 'seeker' AND r.id = ls.value AND r.erased = 0
                        WHERE ls.collection = 'registration' AND ls.role = 'seeker'
                        """, arguments: [c])
                where out[RecordRef("seeker", s)] == nil {
                    out[RecordRef("seeker", s)] = true
                }
            }
            return out
        }
    }

    /// The records among `refs` whose every stored change came from `node`:
    /// records it created and no one else has touched.
    public func createdOnlyBy(_ node: NodeID, among refs: Set<RecordRef>) throws -> [RecordRef] {
        try queue.reading { db in try Self.createdOnlyBy(db, node, among: refs) }
    }

    static func createdOnlyBy(_ db: Database, _ node: NodeID, among refs: Set<RecordRef>) throws -> [RecordRef] {
        // The least and the greatest origin, each one seek in `change_by_record`.
        let origins = try db.cachedStatement(
            sql: """
                SELECT (SELECT min(origin) FROM change WHERE collection = ?1 AND record = ?2),
                       (SELECT max(origin) FROM change WHERE collection = ?1 AND record = ?2)
                """)
        let origin = node.description
        return try refs.sorted { $0.description < $1.description }.filter { ref in
            let row = try Row.fetchOne(origins, arguments: [ref.collection, ref.id])
            return row?[0] as String? == origin && row?[1] as String? == origin
        }
    }

    /// A record's current state as it enters a node's view: whole, or only
    /// its identity and contact slots for a stub.
    public func snapshot(_ ref: RecordRef, stub: Bool) throws -> RecordState? {
        try state(ref.collection, ref.id).map { stub ? Self.stub(of: $0) : $0 }
    }

    /// The part of a state a stub carries: identity and contact, and no
    /// deletion state (whether a record is deleted depends on every writer,
    /// which a stub never sees).
    public static func stub(of full: RecordState) -> RecordState {
        var state = full
        state.slots = state.slots.filter { isStubField($0.key.field) }
        state.erasures = state.erasures.filter { isStubField($0.key.field) }
        state.writers = [:]
        state.deletions = [:]
        return state
    }

    /// Changes after `sequence` that a node holding `view` may see, leaving
    /// out its own and those of records listed in `skip` (their snapshots
    /// carry them); a stub sees changes to identity and contact only.
    public func changes(
        after sequence: Int64, limit: Int, scanLimit: Int = 5_000, view: [RecordRef: Bool], skip: Set<RecordRef>,
        excluding excluded: NodeID?
    ) throws -> LogPage {
        try queue.reading { db in
            // A cursor, and columns read by position: most rows scanned are
            // outside the node's view, and their bodies are never copied out.
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql:
                        "SELECT seq, origin, collection, record, field, body FROM change WHERE seq > ? ORDER BY seq LIMIT ?"
                ),
                arguments: [sequence, scanLimit])
            var out: [(Int64, Change)] = []
            var last = sequence
            let excludedOrigin = excluded?.description
            while let row = try rows.next() {
                if out.count == limit { break }
                let seq: Int64 = row[0]
                last = seq
                if let excludedOrigin, (row[1] as String) == excludedOrigin { continue }
                let ref = RecordRef(row[2], row[3])
                guard let stub = view[ref], !skip.contains(ref) else { continue }
                // A stub sees identity and contact changes only (no record-level
                // deletion: see `snapshot(_:stub:)`).
                if stub, (row[4] as String?).map(Self.isStubField) != true { continue }
                out.append((seq, try Change(encoded: Array((row[5] as String).utf8))))
            }
            let end = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(seq) FROM change")) ?? 0
            return LogPage(changes: out, lastSequence: last, more: last < end)
        }
    }

    /// The canonical export of what a node holding `view` should hold.
    public func exportCanonical(view: [RecordRef: Bool]) throws -> String {
        var records: [(collection: String, id: String, state: RecordState)] = []
        for (ref, stub) in view {
            if let s = try snapshot(ref, stub: stub) { records.append((ref.collection, ref.id, s)) }
        }
        return CanonicalExport.document(records: records, schema: configuration.schema).canonicalString
    }

    /// Merges a snapshot a server sent as a record entered this node's view.
    public func mergeSnapshots(_ snapshots: [(RecordRef, RecordState)]) throws {
        try queue.writing { db in
            var session = WriteSession(db: db, schema: configuration.schema, prepared: prepared)
            for (ref, incoming) in snapshots {
                var s = try session.state(ref)
                s.merge(incoming)
                session.replace(ref, with: s)
            }
            try session.flush()
        }
    }

    /// Purges records that left this node's view: no byte of them stays in
    /// the node's files (`secure_delete`, WAL truncated). Parked refusals
    /// stay listed (they hold ids and fields, not values).
    public func drop(_ refs: [RecordRef]) throws {
        guard !refs.isEmpty else { return }
        try queue.writing { db in
            // A laptop's log has no index by record (store version 5): its
            // changes of every record leaving go in one scan.
            try db.execute(
                sql: "DELETE FROM change WHERE (collection, record) IN \(Self.refsIn)",
                arguments: [Self.refsArgument(refs)])
            for ref in refs {
                for table in ["record_index", "record_link"] {
                    let column = table == "record_link" ? "record" : "id"
                    try db.execute(
                        sql: "DELETE FROM \(table) WHERE collection = ? AND \(column) = ?",
                        arguments: [ref.collection, ref.id])
                }
                try db.cachedStatement(sql: "DELETE FROM record WHERE collection = ? AND id = ?").execute(arguments: [
                    ref.collection, ref.id,
                ])
            }
            try Self.moveViewGeneration(db)
        }
        try truncateWAL()
    }

    /// A list of records as a statement's one argument (JSON), for
    /// `(collection, record) IN \(refsIn)`: SQLite reads it into a
    /// temporary index, and the log is scanned once.
    static func refsArgument(_ refs: some Collection<RecordRef>) -> String {
        JSONValue.array(refs.map { .array([.string($0.collection), .string($0.id)]) }).canonicalString
    }

    /// The set of records of ``refsArgument(_:)``, bound to `?`.
    static let refsIn = "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))"
}
