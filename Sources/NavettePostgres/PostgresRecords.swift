import Foundation
import Logging
import NavetteCore
import NavetteStore
import PostgresNIO

/// The server's records on PostgreSQL: merged states, the change log and the
/// links views are computed from, shared by every server process.
///
/// Every write (a node's push, the server's own edits) runs in one
/// transaction under the log's append lock (see ``PostgresChangeLog``): the
/// read-merge-write of a record's state never races another process's, and
/// sequences are given in commit order. Reads take no lock.
///
/// ```swift
/// let records = PostgresRecords(client: client, logger: logger, node: serverNode)
/// try await records.migrate()
/// try await records.apply(changes)
/// ```
public struct PostgresRecords: ServerRecords {
    public let client: PostgresClient
    let logger: Logger
    public let log: PostgresChangeLog
    public let schema: Schema
    /// The server's own node id: the origin of the changes it makes.
    public let node: NodeID
    let wallClock: @Sendable () -> UInt64
    let maximumDrift: UInt64
    public let prefix: String

    public init(
        client: PostgresClient, logger: Logger, prefix: String = "navette", node: NodeID, schema: Schema = .navette,
        wallClock: @escaping @Sendable () -> UInt64 = RecordStore.systemMillis,
        maximumDrift: UInt64 = HybridLogicalClock.defaultMaximumDrift
    ) {
        self.client = client
        self.logger = logger
        self.prefix = prefix
        self.log = PostgresChangeLog(client: client, logger: logger, prefix: prefix)
        self.schema = schema
        self.node = node
        self.wallClock = wallClock
        self.maximumDrift = maximumDrift
    }

    var records: String { "\(prefix)_record" }
    var links: String { "\(prefix)_record_link" }

    /// Creates the tables if they are missing.
    public func migrate() async throws {
        try await log.migrate()
        let statements: [PostgresQuery] = [
            """
            CREATE TABLE IF NOT EXISTS \(unescaped: records) (collection TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL,
                erased BOOLEAN NOT NULL, agency TEXT, PRIMARY KEY (collection, id))
            """,
            "CREATE INDEX IF NOT EXISTS \(unescaped: records)_by_agency ON \(unescaped: records) (agency, collection)",
            """
            CREATE TABLE IF NOT EXISTS \(unescaped: links) (collection TEXT NOT NULL, record TEXT NOT NULL, role TEXT NOT NULL,
                value TEXT NOT NULL, PRIMARY KEY (collection, record, role, value))
            """,
            "CREATE INDEX IF NOT EXISTS \(unescaped: links)_by_value ON \(unescaped: links) (role, value)",
        ]
        for s in statements { try await client.query(s, logger: logger) }
    }

    // MARK: - Writes

    public func apply(_ changes: [Change]) async throws -> ApplySummary {
        guard !changes.isEmpty else { return ApplySummary() }
        let wall = wallClock()
        return try await write(prefetching: changes) { session in
            var summary = ApplySummary()
            for change in changes {
                switch try await session.ingest(change) {
                case nil: summary.duplicates += 1
                case .dropped?: summary.dropped += 1
                case _?: summary.applied += 1
                }
                if !session.clock.observe(change.time, wallMillis: wall) { summary.fromTheFuture += 1 }
            }
            return summary
        }
    }

    @discardableResult
    public func perform(_ actions: [(RecordRef, [Edit])]) async throws -> [Change] {
        let wall = wallClock()
        let node = self.node, schema = self.schema
        return try await write(prefetching: []) { session in
            var editor = LocalEditor(node: node, schema: schema, clock: session.clock, counter: session.counter)
            var made: [Change] = []
            for (ref, edits) in actions {
                for edit in edits {
                    let state = try await session.state(ref)
                    let change = try editor.change(
                        for: edit, collection: ref.collection, record: ref.id, state: state, wallMillis: wall)
                    _ = try await session.ingest(change)
                    made.append(change)
                }
            }
            session.clock = editor.clock
            session.counter = editor.counter
            return made
        }
    }

    /// Runs `body` in one transaction under the append lock, then writes back
    /// the changes it logged, the states it changed, their links, the log's
    /// head and the clock.
    ///
    /// The round trips do not grow with the batch: which of `changes` the
    /// log holds and the states of their records are read in one query each
    /// before `body`; new changes and states are written in one statement
    /// each after it; links only for records whose links changed.
    func write<T: Sendable>(
        prefetching changes: [Change], _ body: @escaping @Sendable (inout WriteSession) async throws -> T
    ) async throws -> T {
        let store = self
        return try await transaction(client, logger) { c in
            try await store.log.lock(c)
            var head: (Int64, String, Int64)?
            for try await row in try await c.query(
                "SELECT last, clock, counter FROM \(unescaped: store.log.head)", logger: store.logger
            ).decode((Int64, String, Int64).self) {
                head = row
            }
            guard let (last, text, counter) = head else { throw PostgresChangeLog.missingHead }
            let clock = HybridLogicalClock(last: Timestamp(text) ?? .zero, maximumDrift: store.maximumDrift)
            var session = WriteSession(store: store, c: c, last: last, clock: clock, counter: UInt64(max(0, counter)))
            try await session.prefetch(changes)
            let result = try await body(&session)
            try await session.flush()
            return result
        }
    }

    /// The work of one write transaction: states loaded once, changes
    /// ingested, then logged, states and links written back once.
    struct WriteSession {
        let store: PostgresRecords
        let c: PostgresConnection
        var last: Int64
        var clock: HybridLogicalClock
        var counter: UInt64
        var states: [RecordRef: RecordState] = [:]
        /// The states as loaded (`nil`: a new record), to write links only when they change.
        var loaded: [RecordRef: RecordState?] = [:]
        var dirty: Set<RecordRef> = []
        /// Change ids the log holds, or that this session logged.
        var held: Set<ChangeID> = []
        /// Whether `held` was read for every change this session may see.
        var prefetched: Set<ChangeID> = []
        /// Changes logged by this session, written at flush, by sequence.
        var logged: [(sequence: Int64, change: Change)] = []

        init(store: PostgresRecords, c: PostgresConnection, last: Int64, clock: HybridLogicalClock, counter: UInt64) {
            self.store = store
            self.c = c
            self.last = last
            self.clock = clock
            self.counter = counter
        }

        var logger: Logger { store.logger }

        /// Reads which of `changes` the log holds, and their records' states.
        mutating func prefetch(_ changes: [Change]) async throws {
            guard !changes.isEmpty else { return }
            let ids = Array(Set(changes.map(\.id.description)))
            for try await id in try await c.query(
                "SELECT id FROM \(unescaped: store.log.table) WHERE id = ANY(\(ids))", logger: logger
            ).decode(String.self) {
                if let id = ChangeID(id) { held.insert(id) }
            }
            prefetched = Set(changes.map(\.id))
            let refs = Array(Set(changes.map { RecordRef($0.collection, $0.record) }))
            for ref in refs { loaded[ref] = .some(nil) }
            let rows = try await c.query(
                """
                SELECT r.collection, r.id, r.state FROM \(unescaped: store.records) r
                JOIN unnest(\(refs.map(\.collection)), \(refs.map(\.id))) AS k(c, i) ON r.collection = k.c AND r.id = k.i
                """, logger: logger)
            for try await (collection, id, text) in rows.decode((String, String, String).self) {
                let ref = RecordRef(collection, id)
                let state = try store.decode(text, ref)
                loaded[ref] = .some(state)
            }
            for ref in refs { states[ref] = loaded[ref]! ?? RecordState() }
        }

        mutating func state(_ ref: RecordRef) async throws -> RecordState {
            if let s = states[ref] { return s }
            let s = try await store.load(ref, on: c)
            loaded[ref] = .some(s)
            states[ref] = s ?? RecordState()
            return s ?? RecordState()
        }

        /// Whether the log holds `id` (read now unless prefetched).
        mutating func isHeld(_ id: ChangeID) async throws -> Bool {
            if held.contains(id) { return true }
            if prefetched.contains(id) { return false }
            for try await _ in try await c.query(
                "SELECT 1 FROM \(unescaped: store.log.table) WHERE id = \(id.description)", logger: logger)
            {
                held.insert(id)
                return true
            }
            return false
        }

        /// Applies one change and logs it; `nil` for a change already held.
        mutating func ingest(_ change: Change) async throws -> ApplyOutcome? {
            guard !(try await isHeld(change.id)) else { return nil }
            let ref = RecordRef(change.collection, change.record)
            var s = try await state(ref)
            let outcome = s.apply(change)
            switch outcome {
            case .dropped:
                break
            case .purgedOnArrival:
                log(change.purged)
            case .applied, .notUnderstood:
                log(change)
            case .erasedScope(let scope, let before, let wholeField):
                log(change)
                try await purgeLog(ref, field: scope.field, key: wholeField ? nil : scope.key, before: before, except: nil)
            case .erasedRecord:
                log(change)
                try await purgeLog(ref, field: nil, key: nil, before: nil, except: change.id)
            }
            held.insert(change.id)
            states[ref] = s
            dirty.insert(ref)
            return outcome
        }

        mutating func log(_ change: Change) {
            last += 1
            logged.append((last, change))
        }

        /// Replaces stored changes' values with nothing: all of a record's
        /// (`field == nil`), or those of a field or slot ranked below `before`
        /// — in the log, and among the changes this session has yet to write.
        mutating func purgeLog(_ ref: RecordRef, field: String?, key: String?, before: Stamp?, except: ChangeID?) async throws {
            func covered(_ change: Change) -> Bool {
                change.collection == ref.collection && change.record == ref.id && !change.isPurged
                    && change.isCovered(byErasureOf: field, key: key, before: before, except: except)
            }
            for i in logged.indices where covered(logged[i].change) { logged[i].change = logged[i].change.purged }
            let table = store.log.table
            let rows = try await c.query(
                """
                SELECT seq, body FROM \(unescaped: table) WHERE collection = \(ref.collection) AND record = \(ref.id)
                AND purged = FALSE AND (\(field)::text IS NULL OR field = \(field)) AND (\(key)::text IS NULL OR key = \(key))
                """, logger: logger)
            var purged: [(Int64, String)] = []
            for try await (seq, body) in rows.decode((Int64, String).self) {
                let change = try Change(encoded: Array(body.utf8))
                if covered(change) { purged.append((seq, change.purged.encoded)) }
            }
            for (seq, body) in purged {
                try await c.query("UPDATE \(unescaped: table) SET body = \(body), purged = TRUE WHERE seq = \(seq)", logger: logger)
            }
        }

        /// Writes the logged changes, every state this session changed, the
        /// links that changed, the log's head and the clock.
        func flush() async throws {
            if !logged.isEmpty {
                let l = logged.map(\.change)
                try await c.query(
                    """
                    INSERT INTO \(unescaped: store.log.table) (seq, id, origin, time, collection, record, field, key, body, purged)
                    SELECT seq, id, origin, time, collection, record,
                        CASE WHEN has_field THEN field END, CASE WHEN has_key THEN key END, body, purged
                    FROM unnest(\(logged.map(\.sequence)), \(l.map(\.id.description)), \(l.map(\.id.origin.description)),
                        \(l.map { Int64(bitPattern: $0.time.rawValue) }), \(l.map(\.collection)), \(l.map(\.record)),
                        \(l.map { $0.field ?? "" }), \(l.map { $0.field != nil }), \(l.map { $0.key ?? "" }), \(l.map { $0.key != nil }),
                        \(l.map(\.encoded)), \(l.map(\.isPurged)))
                        AS t(seq, id, origin, time, collection, record, field, has_field, key, has_key, body, purged)
                    """, logger: logger)
            }
            if !dirty.isEmpty {
                let refs = Array(dirty)
                let all = refs.map { states[$0]! }
                let agencies = zip(refs, all).map { RecordLinks.agency(of: $0, $1, store.schema) }
                try await c.query(
                    """
                    INSERT INTO \(unescaped: store.records) (collection, id, state, erased, agency)
                    SELECT collection, id, state, erased, CASE WHEN has_agency THEN agency END
                    FROM unnest(\(refs.map(\.collection)), \(refs.map(\.id)), \(all.map(\.storedString)),
                        \(all.map(\.isErased)), \(agencies.map { $0 ?? "" }), \(agencies.map { $0 != nil }))
                        AS t(collection, id, state, erased, agency, has_agency)
                    ON CONFLICT (collection, id) DO UPDATE SET state = excluded.state, erased = excluded.erased,
                        agency = coalesce(excluded.agency, \(unescaped: store.records).agency)
                    """, logger: logger)
                for ref in refs {
                    let now = RecordLinks.links(of: ref, states[ref]!, store.schema)
                    let before = (loaded[ref] ?? nil).map { RecordLinks.links(of: ref, $0, store.schema) } ?? []
                    guard now.map({ "\($0.role)\u{1}\($0.value)" }) != before.map({ "\($0.role)\u{1}\($0.value)" }) else { continue }
                    try await c.query(
                        "DELETE FROM \(unescaped: store.links) WHERE collection = \(ref.collection) AND record = \(ref.id)", logger: logger)
                    if !now.isEmpty {
                        try await c.query(
                            """
                            INSERT INTO \(unescaped: store.links) (collection, record, role, value)
                            SELECT \(ref.collection), \(ref.id), role, value FROM unnest(\(now.map(\.role)), \(now.map(\.value))) AS t(role, value)
                            """, logger: logger)
                    }
                }
            }
            let viewsChanged = RecordLinks.viewsChanged(dirty, loaded: loaded, states: states, store.schema)
            try await c.query(
                """
                UPDATE \(unescaped: store.log.head) SET last = \(last), clock = \(clock.last.description), counter = \(Int64(counter)),
                    view_generation = view_generation + \(viewsChanged ? Int64(1) : 0)
                """, logger: logger)
        }
    }

    func load(_ ref: RecordRef, on c: PostgresConnection) async throws -> RecordState? {
        let rows = try await c.query(
            "SELECT state FROM \(unescaped: records) WHERE collection = \(ref.collection) AND id = \(ref.id)", logger: logger)
        for try await text in rows.decode(String.self) { return try decode(text, ref) }
        return nil
    }

    func decode(_ text: String, _ ref: RecordRef) throws -> RecordState {
        do {
            return try RecordLinks.decodeStoredState(text)
        } catch {
            throw StoreError(.damaged, "the stored state of \(ref) cannot be read back")
        }
    }

    // MARK: - Reads

    public func state(_ ref: RecordRef) async throws -> RecordState? {
        try await client.withConnection { try await load(ref, on: $0) }
    }

    public func agencies(of refs: Set<RecordRef>) async throws -> [RecordRef: String] {
        guard !refs.isEmpty else { return [:] }
        let list = Array(refs)
        let rows = try await client.query(
            """
            SELECT r.collection, r.id, r.agency FROM \(unescaped: records) r
            JOIN unnest(\(list.map(\.collection)), \(list.map(\.id))) AS k(c, i) ON r.collection = k.c AND r.id = k.i
            WHERE r.agency IS NOT NULL
            """, logger: logger)
        var out: [RecordRef: String] = [:]
        for try await (collection, id, agency) in rows.decode((String, String, String).self) { out[RecordRef(collection, id)] = agency }
        return out
    }

    public func createdOnlyBy(_ node: NodeID, among refs: Set<RecordRef>) async throws -> [RecordRef] {
        guard !refs.isEmpty else { return [] }
        return try await afterPush(by: node, among: refs).created
    }

    /// One query: each is a round trip to the database.
    public func afterPush(by node: NodeID, among refs: Set<RecordRef>) async throws -> (created: [RecordRef], lastSequence: Int64) {
        let list = Array(refs)
        // One row per record created only by `node`, each with the log's
        // last sequence; one row of NULLs and the sequence when there is none.
        let rows = try await client.query(
            """
            WITH created AS (
                SELECT k.c, k.i FROM unnest(\(list.map(\.collection)), \(list.map(\.id))) AS k(c, i)
                CROSS JOIN LATERAL (
                    SELECT min(l.origin) AS least, max(l.origin) AS greatest FROM \(unescaped: log.table) l
                    WHERE l.collection = k.c AND l.record = k.i) o
                WHERE o.least = \(node.description) AND o.greatest = \(node.description))
            SELECT h.last, created.c, created.i FROM \(unescaped: log.head) h LEFT JOIN created ON TRUE
            """, logger: logger)
        var created: [RecordRef] = []
        var last: Int64 = 0
        for try await (sequence, collection, id) in rows.decode((Int64, String?, String?).self) {
            last = sequence
            if let collection, let id { created.append(RecordRef(collection, id)) }
        }
        return (created.sorted { $0.description < $1.description }, last)
    }

    /// One query: each is a round trip to the database.
    public func pullBounds() async throws -> (horizon: Int64, viewGeneration: Int64) {
        for try await (horizon, generation) in try await client.query(
            "SELECT horizon, view_generation FROM \(unescaped: log.head)", logger: logger
        ).decode((Int64, Int64).self) {
            return (horizon, generation)
        }
        return (0, 0)
    }

    public func view(_ spec: ViewSpec) async throws -> [RecordRef: Bool] {
        var out: [RecordRef: Bool] = [:]
        let a = spec.agency
        for try await (collection, id) in try await client.query(
            """
            SELECT collection, id FROM \(unescaped: records) WHERE erased = FALSE AND collection <> 'seeker'
            AND (agency = \(a) OR (collection = 'workshop' AND agency IS NULL) OR (collection = 'agency' AND id = \(a)))
            """, logger: logger
        ).decode((String, String).self) {
            out[RecordRef(collection, id)] = false
        }
        let seekers: PostgresQuery?
        if spec.agencyWide {
            seekers = "SELECT id FROM \(unescaped: records) WHERE collection = 'seeker' AND erased = FALSE AND agency = \(a)"
        } else if let c = spec.counsellor {
            seekers = """
                SELECT r.id FROM \(unescaped: records) r JOIN \(unescaped: links) l
                ON l.collection = 'seeker' AND l.record = r.id AND l.role = 'follower' AND l.value = \(c)
                WHERE r.collection = 'seeker' AND r.erased = FALSE AND r.agency = \(a)
                """
        } else {
            seekers = nil
        }
        if let seekers {
            for try await id in try await client.query(seekers, logger: logger).decode(String.self) {
                out[RecordRef("seeker", id)] = false
            }
        }
        if let c = spec.counsellor {
            let rows = try await client.query(
                """
                SELECT DISTINCT ls.value FROM \(unescaped: links) ls
                JOIN \(unescaped: links) lx ON lx.collection = 'registration' AND lx.record = ls.record AND lx.role = 'session'
                JOIN \(unescaped: links) lf ON lf.collection = 'workshopSession' AND lf.record = lx.value
                    AND lf.role = 'facilitator' AND lf.value = \(c)
                JOIN \(unescaped: records) r ON r.collection = 'seeker' AND r.id = ls.value AND r.erased = FALSE
                WHERE ls.collection = 'registration' AND ls.role = 'seeker'
                """, logger: logger)
            for try await id in rows.decode(String.self) where out[RecordRef("seeker", id)] == nil {
                out[RecordRef("seeker", id)] = true
            }
        }
        return out
    }

    public func changes(
        after sequence: Int64, limit: Int, view: [RecordRef: Bool], skip: Set<RecordRef>, excluding excluded: NodeID?
    ) async throws -> LogPage {
        let scanLimit: Int64 = 5_000
        let rows = try await client.query(
            """
            SELECT seq, body, origin, collection, record, field FROM \(unescaped: log.table)
            WHERE seq > \(sequence) ORDER BY seq LIMIT \(scanLimit)
            """, logger: logger)
        var out: [(sequence: Int64, change: Change)] = []
        var last = sequence
        var full = false
        for try await (seq, body, origin, collection, record, field) in rows.decode((Int64, String, String, String, String, String?).self) {
            if full { continue }  // drain the rest of the rows
            if out.count == limit {
                full = true
                continue
            }
            last = seq
            if let excluded, origin == excluded.description { continue }
            let ref = RecordRef(collection, record)
            guard let stub = view[ref], !skip.contains(ref) else { continue }
            if stub, field.map(RecordStore.isStubField) != true { continue }
            out.append((seq, try Change(encoded: Array(body.utf8))))
        }
        // Every sequence up to the log's head is committed (appends number
        // under the lock), so a page that stops before it says there is more.
        let end = try await log.lastSequence()
        return LogPage(changes: out, lastSequence: last, more: last < end)
    }

    public func loggedChanges(after sequence: Int64, limit: Int) async throws -> [(sequence: Int64, change: Change)] {
        try await log.changes(after: sequence, limit: limit)
    }

    public func lastSequence() async throws -> Int64 {
        try await log.lastSequence()
    }

    public func viewGeneration() async throws -> Int64 {
        try await pullBounds().viewGeneration
    }

    public func logHorizon() async throws -> Int64 {
        try await pullBounds().horizon
    }

    @discardableResult
    public func compactLog(before cutoff: UInt64) async throws -> Int64 {
        let cutoffTime = Int64(bitPattern: Timestamp(wallMillis: cutoff, counter: 0).rawValue)
        let log = self.log, logger = self.logger
        return try await transaction(client, logger) { c in
            try await log.lock(c)
            var last: Int64?
            for try await value in try await c.query(
                "SELECT max(seq) FROM \(unescaped: log.table) WHERE time < \(cutoffTime)", logger: logger
            ).decode(Int64?.self) {
                last = value
            }
            if let last {
                try await c.query("DELETE FROM \(unescaped: log.table) WHERE seq <= \(last)", logger: logger)
                try await c.query("UPDATE \(unescaped: log.head) SET horizon = greatest(horizon, \(last))", logger: logger)
            }
            for try await value in try await c.query("SELECT horizon FROM \(unescaped: log.head)", logger: logger).decode(Int64.self) {
                return value
            }
            return 0
        }
    }

    public func registrations(ofSeeker id: String) async throws -> [String] {
        var out: [String] = []
        let rows = try await client.query(
            """
            SELECT record FROM \(unescaped: links) WHERE collection = 'registration' AND role = 'seeker' AND value = \(id) ORDER BY record
            """, logger: logger)
        for try await r in rows.decode(String.self) { out.append(r) }
        return out
    }

    public func seekersRequestingErasure() async throws -> [String] {
        guard let flag = schema.field("seeker", "erasureRequested") else { return [] }
        // The flag is in the state; only seekers whose state names the field are decoded.
        let rows = try await client.query(
            """
            SELECT id, state FROM \(unescaped: records) WHERE collection = 'seeker' AND erased = FALSE
            AND strpos(state, 'erasureRequested') > 0 ORDER BY id
            """, logger: logger)
        var out: [String] = []
        for try await (id, text) in rows.decode((String, String).self) {
            if case .flag(true) = try decode(text, RecordRef("seeker", id)).view(of: flag) { out.append(id) }
        }
        return out
    }

    /// `VACUUM`s the tables erased values were in, so that the old row
    /// versions holding them are reclaimed now rather than by autovacuum.
    /// The WAL and backups still hold them: see `docs/operations.md`.
    public func reclaimErasedSpace() async throws {
        for table in [log.table, records, links] {
            try await client.query("VACUUM \(unescaped: table)", logger: logger)
        }
    }

    /// Every record and its state (for checks and exports).
    public func allStates() async throws -> [(collection: String, id: String, state: RecordState)] {
        var out: [(collection: String, id: String, state: RecordState)] = []
        let rows = try await client.query("SELECT collection, id, state FROM \(unescaped: records) ORDER BY collection, id", logger: logger)
        for try await (collection, id, text) in rows.decode((String, String, String).self) {
            out.append((collection, id, try decode(text, RecordRef(collection, id))))
        }
        return out
    }
}
