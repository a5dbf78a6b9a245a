import GRDB
import NavetteCore

/// The sync server's records: their merged states, the change log nodes
/// pull from, and the indexes views are computed from.
///
/// ``RecordStore`` (embedded SQLite, one server process) and
/// `PostgresRecords` (`NavettePostgres`, any number of processes on one
/// database) implement it. The server reaches its storage only through this
/// protocol and ``SharedRegistry``, and its test suite runs on both.
///
/// ```swift
/// let summary = try await records.apply(changes)             // idempotent, any order
/// let view = try await records.view(ViewSpec(agency: "069-lyon-3", counsellor: "c1", agencyWide: false))
/// let page = try await records.changes(after: cursor, limit: 500, view: view, skip: [], excluding: node)
/// ```
public protocol ServerRecords: Sendable {
    /// The schema changes are validated and merged against.
    var schema: Schema { get }

    /// Applies a batch of changes from a node, in one transaction:
    /// idempotent (a change already held is ignored) and order-independent;
    /// a change for an erased record is dropped, one covered by an erasure
    /// is logged purged.
    func apply(_ changes: [Change]) async throws -> ApplySummary

    /// Makes and applies the server's own edits (reference data, transfers,
    /// erasures) in one transaction, stamped with the server's clock.
    ///
    /// - Returns: the changes made, in order.
    @discardableResult
    func perform(_ actions: [(RecordRef, [Edit])]) async throws -> [Change]

    /// A number that moves on whenever a write changes what views are
    /// computed from (a record's agency, its links, its erasure): a view
    /// computed at one generation holds until the next.
    func viewGeneration() async throws -> Int64

    /// A record's merged state, or `nil` if the server never saw it.
    func state(_ ref: RecordRef) async throws -> RecordState?

    /// The agency each record belongs to now (absent: unknown record, or
    /// one without an agency).
    func agencies(of records: Set<RecordRef>) async throws -> [RecordRef: String]

    /// What a push answers with, read together after its apply: the records
    /// among `refs` whose every logged change came from `node`, and the
    /// log's last sequence. By default, ``createdOnlyBy(_:among:)`` then
    /// ``lastSequence()``; a store may read both at once.
    func afterPush(by node: NodeID, among refs: Set<RecordRef>) async throws -> (created: [RecordRef], lastSequence: Int64)

    /// What a pull checks its cursor and its view against, read together:
    /// the log's horizon (``logHorizon()``) and the view generation
    /// (``viewGeneration()``).
    func pullBounds() async throws -> (horizon: Int64, viewGeneration: Int64)

    /// The records among `refs` whose every logged change came from `node`.
    func createdOnlyBy(_ node: NodeID, among refs: Set<RecordRef>) async throws -> [RecordRef]

    /// The records a node with `spec` may hold, each `true` when only as a
    /// stub (see ``RecordStore/view(_:)`` for the rules).
    func view(_ spec: ViewSpec) async throws -> [RecordRef: Bool]

    /// The changes after `sequence` a node holding `view` may see, leaving
    /// out `excluding`'s own and those of records in `skip`.
    func changes(
        after sequence: Int64, limit: Int, view: [RecordRef: Bool], skip: Set<RecordRef>, excluding: NodeID?
    ) async throws -> LogPage

    /// Every change the log holds after `sequence`, oldest first, at most
    /// `limit` (values as stored: purged changes carry none).
    func loggedChanges(after sequence: Int64, limit: Int) async throws -> [(sequence: Int64, change: Change)]

    /// Every record with its merged state (for exports and checks).
    func allStates() async throws -> [(collection: String, id: String, state: RecordState)]

    /// The last sequence the log ever gave; it never goes back.
    func lastSequence() async throws -> Int64

    /// The last sequence compacted away (0 when the whole log is there).
    func logHorizon() async throws -> Int64

    /// Drops the changes stamped before `cutoff` from the log.
    ///
    /// - Returns: the log's new horizon.
    @discardableResult
    func compactLog(before cutoff: UInt64) async throws -> Int64

    /// The registrations that name seeker `id`.
    func registrations(ofSeeker id: String) async throws -> [String]

    /// The live seekers whose erasure was requested.
    func seekersRequestingErasure() async throws -> [String]

    /// Makes the storage give up what erased values it still holds in its
    /// own files (SQLite: checkpoint and truncate the WAL; PostgreSQL:
    /// `VACUUM` the tables that held them).
    func reclaimErasedSpace() async throws

    /// Makes what serving needs and a node's store lacks, before the
    /// server's first request: on SQLite, the log's index by record, which
    /// ``createdOnlyBy(_:among:)`` reads on every push and laptops do
    /// without (store version 5). Idempotent; nothing to do by default.
    func readyForServing() async throws
}

extension ServerRecords {
    /// A record's state as it enters a node's view: whole, or only its
    /// identity and contact slots for a stub.
    public func snapshot(_ ref: RecordRef, stub: Bool) async throws -> RecordState? {
        try await state(ref).map { stub ? RecordStore.stub(of: $0) : $0 }
    }

    /// The canonical export of every record.
    public func exportAll() async throws -> String {
        CanonicalExport.document(records: try await allStates(), schema: schema).canonicalString
    }

    /// The canonical export of what a node holding `view` should hold.
    public func exportCanonical(of view: [RecordRef: Bool]) async throws -> String {
        var records: [(collection: String, id: String, state: RecordState)] = []
        for (ref, stub) in view {
            if let s = try await snapshot(ref, stub: stub) { records.append((ref.collection, ref.id, s)) }
        }
        return CanonicalExport.document(records: records, schema: schema).canonicalString
    }
}

extension ServerRecords {
    public func readyForServing() async throws {}

    public func afterPush(by node: NodeID, among refs: Set<RecordRef>) async throws -> (created: [RecordRef], lastSequence: Int64) {
        (try await createdOnlyBy(node, among: refs), try await lastSequence())
    }

    public func pullBounds() async throws -> (horizon: Int64, viewGeneration: Int64) {
        (try await logHorizon(), try await viewGeneration())
    }
}

extension RecordStore: ServerRecords {
    public var schema: Schema { configuration.schema }

    /// One read: each read costs the server a transaction of its own.
    public func afterPush(by node: NodeID, among refs: Set<RecordRef>) throws -> (created: [RecordRef], lastSequence: Int64) {
        try queue.reading { db in (try Self.createdOnlyBy(db, node, among: refs), try Self.lastSequence(db)) }
    }

    /// One read: each read costs the server a transaction of its own.
    public func pullBounds() throws -> (horizon: Int64, viewGeneration: Int64) {
        try queue.reading { db in
            let values = try Self.metaValues(db)
            return (values["horizon"].flatMap(Int64.init) ?? 0, values["viewGeneration"].flatMap(Int64.init) ?? 0)
        }
    }

    public func state(_ ref: RecordRef) throws -> RecordState? {
        try state(ref.collection, ref.id)
    }

    public func viewGeneration() throws -> Int64 {
        try pullBounds().viewGeneration
    }

    public func changes(
        after sequence: Int64, limit: Int, view: [RecordRef: Bool], skip: Set<RecordRef>, excluding: NodeID?
    ) throws -> LogPage {
        try changes(after: sequence, limit: limit, scanLimit: 5_000, view: view, skip: skip, excluding: excluding)
    }

    public func loggedChanges(after sequence: Int64, limit: Int) throws -> [(sequence: Int64, change: Change)] {
        try changes(after: sequence, limit: limit)
    }

    public func registrations(ofSeeker id: String) throws -> [String] {
        try queue.reading { db in
            try String.fetchAll(
                db, sql: "SELECT record FROM record_link WHERE collection = 'registration' AND role = 'seeker' AND value = ? ORDER BY record",
                arguments: [id])
        }
    }

    public func seekersRequestingErasure() throws -> [String] {
        guard let flag = schema.field("seeker", "erasureRequested") else { return [] }
        return try allStates().compactMap { collection, id, state in
            guard collection == "seeker", !state.isErased, case .flag(true) = state.view(of: flag) else { return nil }
            return id
        }.sorted()
    }

    public func reclaimErasedSpace() throws {
        try truncateWAL()
    }

    /// Indexes the log by record if it is not (a store made as a node's,
    /// or by a migration that found no server identity); on a large log,
    /// the first start takes the time to build it.
    public func readyForServing() throws {
        try queue.writing { db in try db.execute(sql: Self.serverLogIndex) }
    }
}
