import Foundation
import GRDB
import NavetteCore

/// A line of a list: a live record with its summary fields.
public struct RecordSummary: Hashable, Sendable {
    public var collection: String
    public var id: String
    /// The collection's summary fields that have a value.
    public var fields: [String: JSONValue]
}

/// Filters of a list; `nil` matches anything.
public struct ListFilter: Hashable, Sendable {
    public var agency: String?
    public var referent: String?
    public var status: String?
    /// A part of the name (or title), matched ignoring case and accents.
    public var name: String?
    public init(agency: String? = nil, referent: String? = nil, status: String? = nil, name: String? = nil) {
        self.agency = agency
        self.referent = referent
        self.status = status
        self.name = name
    }
}

/// A field (or map entry) whose concurrent values await a counsellor's choice.
public struct FieldConflict: Hashable, Sendable {
    public var record: RecordRef
    public var field: String
    /// The map entry, for a conflict inside a map.
    public var key: String?
    /// The value shown for now: the greatest stamp.
    public var current: ValueRef
    /// The concurrent values that lost.
    public var others: [ValueRef]
}

/// A seeker who holds enough of a job's skills.
public struct SkillMatch: Hashable, Sendable {
    public var seeker: String
    public var matched: Int
    public var required: Int
    public var percent: Int { required == 0 ? 0 : matched * 100 / required }
}

/// What `navette status` shows.
public struct StoreStatus: Hashable, Sendable {
    public var identity: NodeIdentity
    /// Changes in the log, from every node.
    public var changes: Int
    /// Changes this node made that no peer has acknowledged yet.
    public var pending: Int
    /// Fields or entries in conflict.
    public var conflicts: Int
    /// Live records per collection.
    public var records: [String: Int]
    /// Records erased on this node (the erasure ledger).
    public var erasedRecords: Int
}

/// A change as `navette log` shows it: no values.
public struct LoggedChange: Hashable, Sendable {
    public var sequence: Int64
    public var id: ChangeID
    public var time: Timestamp
    public var record: RecordRef
    public var field: String?
    public var key: String?
    public var operation: String
    public var isPurged: Bool
}

extension RecordStore {
    /// The replicated state of a record, or `nil` if the store never saw it.
    public func state(_ collection: String, _ id: String) throws -> RecordState? {
        try queue.reading { db in try RecordStore.loadState(db, RecordRef(collection, id)) }
    }

    /// Live records of a collection, sorted by name then id.
    public func list(_ collection: String, filter: ListFilter = ListFilter()) throws -> [RecordSummary] {
        try queue.reading { db in
            var sql = "SELECT id, summary FROM record_index WHERE collection = ?"
            var args: StatementArguments = [collection]
            if let a = filter.agency {
                sql += " AND agency = ?"
                args += [a]
            }
            if let r = filter.referent {
                sql += " AND referent = ?"
                args += [r]
            }
            if let s = filter.status {
                sql += " AND status = ?"
                args += [s]
            }
            if let n = filter.name {
                let escaped = RecordIndexer.foldForSearch(n).replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
                sql += " AND name_key LIKE ? ESCAPE '\\'"
                args += ["%" + escaped + "%"]
            }
            sql += " ORDER BY name_key, id"
            return try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                let summary = (try? JSONValue(parsing: row["summary"] as String))?.objectValue ?? [:]
                return RecordSummary(
                    collection: collection, id: row["id"], fields: summary.filter { $0.value != .null })
            }
        }
    }

    /// Seekers holding at least `minimumPercent` % of the skills the ROME
    /// job `romeCode` demands (embedded subset), best first. Skills match by
    /// code whatever their ROME version.
    public func match(romeCode: String, minimumPercent: Int) throws -> [SkillMatch] {
        guard let job = Rome.job(romeCode) else { return [] }
        let wanted = Set(job.skills)
        let schema = configuration.schema
        guard let skills = schema.field("seeker", "skills") else { return [] }
        return try queue.reading { db in
            var out: [SkillMatch] = []
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.state FROM record r JOIN record_index i ON i.collection = r.collection AND i.id = r.id
                    WHERE r.collection = 'seeker'
                    """)
            for row in rows {
                let state = try RecordStore.decodeState(row["state"])
                guard case .map(let entries) = state.view(of: skills) else { continue }
                let codes = Set(entries.keys.compactMap { Rome.SkillKey($0)?.code })
                let matched = codes.intersection(wanted).count
                let m = SkillMatch(seeker: row["id"], matched: matched, required: wanted.count)
                if matched > 0, m.matched * 100 >= minimumPercent * m.required { out.append(m) }
            }
            return out.sorted { ($0.matched, $1.seeker) > ($1.matched, $0.seeker) }
        }
    }

    /// Every field or map entry with concurrent values, by record.
    public func conflicts() throws -> [FieldConflict] {
        let schema = configuration.schema
        return try queue.reading { db in
            var out: [FieldConflict] = []
            for row in try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT collection, id, state FROM record WHERE conflicts > 0 ORDER BY collection, id"))
            {
                let ref = RecordRef(row["collection"], row["id"])
                let state = try RecordStore.decodeState(row["state"])
                guard let spec = schema.collection(ref.collection) else { continue }
                for name in state.fieldNames {
                    guard let f = spec.field(name), f.showsConflicts else { continue }
                    switch state.view(of: f) {
                    case .register(let c?, let others) where !others.isEmpty:
                        out.append(FieldConflict(record: ref, field: name, key: nil, current: c, others: others))
                    case .map(let entries):
                        for k in entries.keys.sorted(by: JSONValue.utf8Less) {
                            if case .register(let c?, let others) = entries[k]!, !others.isEmpty {
                                out.append(FieldConflict(record: ref, field: name, key: k, current: c, others: others))
                            }
                        }
                    default: break
                    }
                }
            }
            return out
        }
    }

    /// The node's identity and the counts `navette status` shows.
    public func status() throws -> StoreStatus {
        try queue.reading { db in
            let changes = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM change")) ?? 0
            let sent = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(sent) FROM checkpoint")) ?? 0
            let pending =
                try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT count(*) FROM change WHERE origin = ? AND seq > ?"),
                    arguments: [identity.node.description, sent]) ?? 0
            let conflicts =
                try Int.fetchOne(db.cachedStatement(sql: "SELECT coalesce(sum(conflicts), 0) FROM record")) ?? 0
            var records: [String: Int] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(sql: "SELECT collection, count(*) AS n FROM record_index GROUP BY collection"))
            {
                records[row["collection"]] = row["n"]
            }
            let erased = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM record WHERE erased = 1")) ?? 0
            return StoreStatus(
                identity: identity, changes: changes, pending: pending, conflicts: conflicts, records: records,
                erasedRecords: erased)
        }
    }

    /// The most recent changes, newest first, without their values.
    public func recentChanges(limit: Int) throws -> [LoggedChange] {
        try queue.reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, id, time, collection, record, field, key, op, purged FROM change
                    ORDER BY seq DESC LIMIT ?
                    """, arguments: [limit]
            ).map { row in
                LoggedChange(
                    sequence: row["seq"], id: ChangeID(row["id"] as String)!,
                    time: Timestamp(rawValue: UInt64(bitPattern: row["time"] as Int64)),
                    record: RecordRef(row["collection"], row["record"]), field: row["field"], key: row["key"],
                    operation: row["op"], isPurged: row["purged"])
            }
        }
    }

    /// Changes logged after local sequence `sequence`, oldest first, at most
    /// `limit`: what a peer that has seen up to `sequence` has not.
    public func changes(after sequence: Int64, limit: Int = .max) throws -> [(sequence: Int64, change: Change)] {
        try queue.reading { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT seq, body FROM change WHERE seq > ? ORDER BY seq LIMIT ?"),
                arguments: [sequence, Int64(min(limit, Int(Int64.max)))]
            ).map { row in
                (row["seq"], try Change(encoded: Array((row["body"] as String).utf8)))
            }
        }
    }

    /// Every record's state, for export and checks.
    public func allStates() throws -> [(collection: String, id: String, state: RecordState)] {
        try queue.reading { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT collection, id, state FROM record")).map { row in
                (
                    row["collection"], row["id"],
                    try RecordStore.decodeState(row["state"])
                )
            }
        }
    }

    /// The store's current state as canonical JSON (``CanonicalExport``).
    public func exportCanonical() throws -> String {
        CanonicalExport.document(records: try allStates(), schema: configuration.schema).canonicalString
    }

    /// The last local sequence a peer acknowledged receiving from this store.
    public func checkpoint(peer: String) throws -> Int64 {
        try queue.reading { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT sent FROM checkpoint WHERE peer = ?"), arguments: [peer])
                ?? 0
        }
    }

    /// Records that `peer` holds this store's log up to `sequence`. The
    /// checkpoint only moves forward, unless `force` resets it (a peer that
    /// lost data, such as a server restored from a backup).
    public func setCheckpoint(peer: String, sequence: Int64, force: Bool = false) throws {
        try queue.writing { db in
            try db.execute(
                sql: force
                    ? "INSERT INTO checkpoint (peer, sent) VALUES (?, ?) ON CONFLICT (peer) DO UPDATE SET sent = excluded.sent"
                    : """
                    INSERT INTO checkpoint (peer, sent) VALUES (?, ?)
                    ON CONFLICT (peer) DO UPDATE SET sent = max(sent, excluded.sent)
                    """, arguments: [peer, sequence])
        }
    }

    /// Moves `peer`'s checkpoint to the end of the log when none of this
    /// node's changes after it is left to send, and returns the checkpoint.
    ///
    /// The log has no index by origin (store version 4: it was a page of
    /// every edit), so finding what to push scans the log from the
    /// checkpoint. A node that pulls and does not edit calls this after
    /// finding nothing to push, so that the next search starts after the
    /// changes it pulled rather than scanning them again. One transaction:
    /// an edit committed after the check has a later sequence.
    @discardableResult
    public func settleCheckpoint(peer: String) throws -> Int64 {
        try queue.writing { db in
            let sent =
                try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT sent FROM checkpoint WHERE peer = ?"), arguments: [peer]) ?? 0
            let last = try Self.lastSequence(db)
            // Nothing logged since: no scan (a no-op sync ends here).
            guard last > sent else { return sent }
            let pending = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM change WHERE seq > ? AND origin = ?)"),
                arguments: [sent, identity.node.description])
            guard pending == false else { return sent }
            try db.cachedStatement(
                sql: """
                    INSERT INTO checkpoint (peer, sent) VALUES (?, ?)
                    ON CONFLICT (peer) DO UPDATE SET sent = excluded.sent
                    """
            ).execute(arguments: [peer, last])
            return last
        }
    }

    /// Registrations of a session, split into confirmed seats and a
    /// waitlist (``Waitlist``); cancelled and refused ones are left out.
    public func roster(session: String) throws -> (capacity: Int, waitlist: Waitlist)? {
        let schema = configuration.schema
        guard let sessionState = try state("workshopSession", session), !sessionState.isErased,
            let capField = schema.field("workshopSession", "capacity"),
            let registered = schema.field("registration", "registered"),
            let status = schema.field("registration", "status")
        else { return nil }
        var capacity = 0
        if case .register(let c?, _) = sessionState.view(of: capField) { capacity = Int(c.value.intValue ?? 0) }
        let ids = try queue.reading { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: "SELECT id FROM record_index WHERE collection = 'registration' AND session = ?"),
                arguments: [session])
        }
        var entries: [(id: String, rank: Stamp)] = []
        for id in ids {
            guard let s = try state("registration", id) else { continue }
            if case .register(let st?, _) = s.view(of: status), st.value != "registered" { continue }
            guard case .writeOnce(let first?) = s.view(of: registered) else { continue }
            entries.append((id, Stamp(time: first.time, node: first.id.origin)))
        }
        return (capacity, Waitlist(capacity: capacity, registrations: entries))
    }
}
