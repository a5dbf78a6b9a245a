import Logging
import NavetteCore
import PostgresNIO

/// The server's change log on PostgreSQL, shared by every server process.
///
/// Readers pull "every change after sequence N", so a change must never
/// become visible after one with a greater sequence: with a plain sequence,
/// two concurrent transactions can commit out of order, and a reader that
/// saw the later one would move its cursor past the earlier one and skip it
/// for ever (the sequence-visibility hazard). Appends here take one
/// transaction-scoped advisory lock and number their changes under it, so
/// sequences are given in commit order: a snapshot that holds sequence N
/// holds every sequence below N.
///
/// ```swift
/// let log = PostgresChangeLog(client: client, logger: logger)
/// try await log.migrate()
/// try await log.append(changes)                       // idempotent by change id
/// let page = try await log.changes(after: cursor, limit: 500)
/// ```
public struct PostgresChangeLog: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// The schema's tables live under this prefix (tests use one per run).
    public let prefix: String

    /// The advisory lock every append takes (a constant: "navette" in ASCII).
    static let appendLock: Int64 = 0x6E_6176_6574_7465

    public init(client: PostgresClient, logger: Logger, prefix: String = "navette") {
        self.client = client
        self.logger = logger
        self.prefix = prefix
    }

    var table: String { "\(prefix)_change" }
    var head: String { "\(prefix)_log_head" }

    /// Creates the tables if they are missing.
    public func migrate() async throws {
        try await client.withConnection { c in
            try await c.query(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: table) (
                    seq BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, origin TEXT NOT NULL, time BIGINT NOT NULL,
                    collection TEXT NOT NULL, record TEXT NOT NULL, field TEXT, key TEXT, body TEXT NOT NULL,
                    purged BOOLEAN NOT NULL DEFAULT FALSE)
                """, logger: logger)
            // With the origin, whether a record's every change came from one
            // node (asked on each push) is two index seeks, not a read of the
            // record's whole history. It replaces the index of earlier versions.
            try await c.query(
                """
                CREATE INDEX IF NOT EXISTS \(unescaped: table)_by_record_origin ON \(unescaped: table) (collection, record, origin)
                """, logger: logger)
            try await c.query("DROP INDEX IF EXISTS \(unescaped: table)_by_record", logger: logger)
            // The last sequence ever given (it never goes back, even when the
            // tail is compacted away), the compaction horizon, and the server's
            // own clock and change counter for the edits it makes.
            try await c.query(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: head) (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), last BIGINT NOT NULL,
                    horizon BIGINT NOT NULL DEFAULT 0, clock TEXT NOT NULL DEFAULT '', counter BIGINT NOT NULL DEFAULT 0)
                """, logger: logger)
            try await c.query("INSERT INTO \(unescaped: head) (last) VALUES (0) ON CONFLICT DO NOTHING", logger: logger)
            // Moves on whenever a write changes what views are computed from.
            try await c.query(
                "ALTER TABLE \(unescaped: head) ADD COLUMN IF NOT EXISTS view_generation BIGINT NOT NULL DEFAULT 0", logger: logger)
        }
    }

    /// Appends the changes the log does not hold yet, in one transaction.
    ///
    /// - Parameter beforeCommit: a test seam, run inside the transaction
    ///   after the changes are written (to hold the transaction open).
    /// - Returns: how many changes were new.
    @discardableResult
    public func append(_ changes: [Change], beforeCommit: (@Sendable () async throws -> Void)? = nil) async throws -> Int {
        guard !changes.isEmpty else { return 0 }
        let log = self
        return try await transaction(client, logger) { c in
            try await log.lock(c)
            var last = try await log.last(c)
            var added = 0
            for change in changes where try await log.insert(c, change, sequence: last + 1) {
                last += 1
                added += 1
            }
            try await log.setLast(c, last)
            try await beforeCommit?()
            return added
        }
    }

    /// Takes the append lock for the rest of the transaction. Every write to
    /// the log and the records takes it first.
    func lock(_ c: PostgresConnection) async throws {
        try await c.query("SELECT pg_advisory_xact_lock(\(Self.appendLock))", logger: logger)
    }

    /// The last sequence given, read under the lock.
    func last(_ c: PostgresConnection) async throws -> Int64 {
        for try await value in try await c.query("SELECT last FROM \(unescaped: head)", logger: logger).decode(Int64.self) {
            return value
        }
        throw Self.missingHead
    }

    static let missingHead = PostgresRegistryError("the log head is missing: run the migrations")

    func setLast(_ c: PostgresConnection, _ last: Int64) async throws {
        try await c.query("UPDATE \(unescaped: head) SET last = \(last)", logger: logger)
    }

    /// Logs one change under `sequence`; `false` when the log holds it already.
    func insert(_ c: PostgresConnection, _ change: Change, sequence: Int64) async throws -> Bool {
        let rows = try await c.query(
            """
            INSERT INTO \(unescaped: table) (seq, id, origin, time, collection, record, field, key, body, purged)
            VALUES (\(sequence), \(change.id.description), \(change.id.origin.description), \(Int64(bitPattern: change.time.rawValue)),
                \(change.collection), \(change.record), \(change.field), \(change.key), \(change.encoded), \(change.isPurged))
            ON CONFLICT (id) DO NOTHING RETURNING seq
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The changes after `sequence`, in sequence order.
    public func changes(after sequence: Int64, limit: Int) async throws -> [(sequence: Int64, change: Change)] {
        var query = PostgresQuery(unsafeSQL: "SELECT seq, body FROM \(table) WHERE seq > $1 ORDER BY seq LIMIT $2")
        query.binds.append(sequence)
        query.binds.append(Int64(limit))
        var out: [(Int64, Change)] = []
        for try await (seq, body) in try await client.query(query, logger: logger).decode((Int64, String).self) {
            out.append((seq, try Change(encoded: Array(body.utf8))))
        }
        return out
    }

    /// The last sequence the log ever gave (0 when it never held a change).
    public func lastSequence() async throws -> Int64 {
        var last: Int64 = 0
        for try await value in try await client.query(PostgresQuery(unsafeSQL: "SELECT last FROM \(head)"), logger: logger).decode(Int64.self) {
            last = value
        }
        return last
    }
}
