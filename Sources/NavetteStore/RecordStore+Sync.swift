import GRDB
import NavetteCore

/// A change the server refused, parked on the node and shown to the
/// counsellor; it stays in the node's own log and state.
public struct ParkedChange: Hashable, Sendable {
    public var id: ChangeID
    public var record: RecordRef
    public var field: String?
    public var reason: String
    /// When the refusal arrived, in milliseconds since 1970.
    public var at: UInt64
}

/// A page of a store's log as one peer may see it.
public struct LogPage: Sendable {
    /// The changes the peer may see, in log order.
    public var changes: [(sequence: Int64, change: Change)]
    /// The last sequence examined: the next page starts after it.
    public var lastSequence: Int64
    /// Whether the log goes on after `lastSequence`.
    public var more: Bool

    public init(changes: [(sequence: Int64, change: Change)], lastSequence: Int64, more: Bool) {
        self.changes = changes
        self.lastSequence = lastSequence
        self.more = more
    }
}

extension RecordStore {
    /// Changes this node made after local sequence `sequence`, oldest first:
    /// what it still has to push.
    ///
    /// The log is read in order from `sequence` (it has no index by origin),
    /// so the cost grows with the changes after it, others' included;
    /// ``settleCheckpoint(peer:)`` keeps the server's checkpoint close.
    public func ownChanges(after sequence: Int64, limit: Int) throws -> [(sequence: Int64, change: Change)] {
        try queue.reading { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT seq, body FROM change WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?"),
                arguments: [identity.node.description, sequence, limit]
            ).map { row in (row["seq"], try Change(encoded: Array((row["body"] as String).utf8))) }
        }
    }

    /// The last sequence this store's log ever gave (0 when it never held a
    /// change). It never goes back, even when compaction or erasure deleted
    /// the changes that had it: a cursor taken from it stays ahead of the
    /// history horizon, and no later change can have a smaller one.
    public func lastSequence() throws -> Int64 {
        try queue.reading { db in try Self.lastSequence(db) }
    }

    static func lastSequence(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: lastSequenceSQL)) ?? 0
    }

    /// The greater of the log's last change and the high-water mark in
    /// `meta` (migration v3 set it; the `change_keeps_clock` trigger moves
    /// it before the log's last change is deleted).
    static let lastSequenceSQL = """
        SELECT max(coalesce((SELECT max(seq) FROM change), 0),
                   coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'sequence'), 0))
        """

    /// The agency each record belongs to now (`nil` for a record the store
    /// has not seen, or one without an agency).
    public func agencies(of records: Set<RecordRef>) throws -> [RecordRef: String] {
        try queue.reading { db in
            var out: [RecordRef: String] = [:]
            for ref in records {
                if let a = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT agency FROM record WHERE collection = ? AND id = ?"),
                    arguments: [ref.collection, ref.id])
                {
                    out[ref] = a
                }
            }
            return out
        }
    }

    /// Parks changes a server refused, with its reasons.
    public func park(_ refused: [(change: Change, reason: String)]) throws {
        let at = now()
        try queue.writing { db in
            for (c, reason) in refused {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO refused (id, collection, record, field, reason, at) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, at = excluded.at
                        """
                ).execute(arguments: [c.id.description, c.collection, c.record, c.field, reason, Int64(at)])
            }
        }
    }

    /// The changes servers refused, newest first.
    public func parkedChanges() throws -> [ParkedChange] {
        try queue.reading { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM refused ORDER BY at DESC, id")).map { row in
                ParkedChange(
                    id: ChangeID(row["id"] as String)!, record: RecordRef(row["collection"], row["record"]),
                    field: row["field"], reason: row["reason"], at: UInt64(row["at"] as Int64))
            }
        }
    }
}

extension RecordStore {
    /// Removes every record and change from this node (after revocation):
    /// the files keep no value of them (`secure_delete`, WAL truncated).
    public func purgeAllData() throws {
        try queue.writing { db in
            for table in ["change", "record", "record_index", "refused", "checkpoint"] {
                try db.execute(sql: "DELETE FROM \(table)")
            }
            try db.cachedStatement(sql: "DELETE FROM meta WHERE key LIKE 'sync.%' AND key != 'sync.revoked'").execute()
            try Self.moveViewGeneration(db)
        }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
        try truncateWAL()
    }
}

extension RecordStore {
    /// Stamps again, with this node's corrected time, changes it made that
    /// no one else has seen (the server refused them as stamped too far in
    /// the future): each keeps its id, moves to the end of the log so that it
    /// is pushed again, and the records' states are rebuilt from their logs.
    ///
    /// - Returns: the changes as stamped now.
    @discardableResult
    public func restamp(_ ids: [ChangeID]) throws -> [Change] {
        let wall = now()
        let node = identity.node
        return try queue.writing { db in
            // One session: its statements are prepared once for the inserts and the flush.
            var session = WriteSession(db: db, schema: configuration.schema, prepared: prepared)
            let saved = try session.clock()
            var last = saved.last
            // The stamps being replaced were the future; the clock restarts from now.
            if last.wallMillis > wall { last = Timestamp(wallMillis: wall, counter: 0) }
            var clock = HybridLogicalClock(last: last, maximumDrift: configuration.maximumDrift)
            var out: [Change] = []
            var touched: Set<RecordRef> = []
            for id in ids where id.origin == node {
                guard
                    let body = try String.fetchOne(
                        db.cachedStatement(sql: "SELECT body FROM change WHERE id = ?"), arguments: [id.description])
                else { continue }
                var change = try Change(encoded: Array(body.utf8))
                change.time = try clock.tick(wallMillis: wall)
                if change.operation == .append, let key = change.key, key.hasSuffix(".\(change.id)") {
                    change.key = "\(change.time).\(change.id)"
                }
                try db.cachedStatement(sql: "DELETE FROM change WHERE id = ?").execute(arguments: [id.description])
                _ = try session.insert(change)
                touched.insert(RecordRef(change.collection, change.record))
                out.append(change)
            }
            // Each touched record's state, made again from its log: the
            // log has no index by record on a laptop (store version 5), so
            // it is read once for all of them.
            var states = Dictionary(uniqueKeysWithValues: touched.map { ($0, RecordState()) })
            if !touched.isEmpty {
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT collection, record, body FROM change WHERE (collection, record) IN \(Self.refsIn) ORDER BY seq",
                    arguments: [Self.refsArgument(touched)])
                while let row = try rows.next() {
                    states[RecordRef(row[0], row[1])]?.apply(try Change(encoded: Array((row[2] as String).utf8)))
                }
            }
            for (ref, state) in states { session.replace(ref, with: state) }
            try session.flush()
            try session.saveClock(clock.last, counter: saved.counter, resetting: true)
            return out
        }
    }
}

extension RecordStore {
    /// Removes from the change log the changes made (by their stamps)
    /// before `cutoff`, which record states no longer need: a server's
    /// bounded history.
    ///
    /// - Returns: the log's new horizon: the last sequence removed (0 when
    ///   nothing was).
    @discardableResult
    public func compactLog(before cutoff: UInt64) throws -> Int64 {
        let horizon = try queue.writing { db -> Int64 in
            let cutoffTime = Int64(bitPattern: Timestamp(wallMillis: cutoff, counter: 0).rawValue)
            guard
                let last = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT max(seq) FROM change WHERE time < ?"), arguments: [cutoffTime])
            else {
                return try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'horizon'"))
                    .flatMap { $0 } ?? 0
            }
            try db.cachedStatement(sql: "DELETE FROM change WHERE seq <= ?").execute(arguments: [last])
            try db.cachedStatement(
                sql:
                    "INSERT INTO meta (key, value) VALUES ('horizon', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ).execute(arguments: [String(last)])
            return last
        }
        try truncateWAL()
        return horizon
    }

    /// The last sequence compacted away (0 when the whole log is there).
    public func logHorizon() throws -> Int64 {
        try pullBounds().horizon
    }
}
