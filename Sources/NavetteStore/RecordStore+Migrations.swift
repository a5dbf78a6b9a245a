import GRDB

extension RecordStore {
    /// The schema of the store file, one migration per release that changes it.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Node identity, clock and counter.
            try db.execute(sql: "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
            // The append-only change log, numbered by a local sequence. `time`
            // holds the packed HLC as a signed 64-bit integer (same bits).
            try db.execute(
                sql: """
                    CREATE TABLE change (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        origin TEXT NOT NULL,
                        time INTEGER NOT NULL,
                        collection TEXT NOT NULL,
                        record TEXT NOT NULL,
                        field TEXT,
                        key TEXT,
                        op TEXT NOT NULL,
                        body TEXT NOT NULL,
                        purged INTEGER NOT NULL DEFAULT 0
                    )
                    """)
            try db.execute(sql: "CREATE INDEX change_by_record ON change (collection, record)")
            try db.execute(sql: "CREATE INDEX change_by_origin ON change (origin, seq)")
            // Materialised records: the replicated state of each. A rowid table:
            // states are kilobytes, too large for a WITHOUT ROWID b-tree.
            try db.execute(
                sql: """
                    CREATE TABLE record (
                        collection TEXT NOT NULL,
                        id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        erased INTEGER NOT NULL DEFAULT 0,
                        deleted INTEGER NOT NULL DEFAULT 0,
                        conflicts INTEGER NOT NULL DEFAULT 0,
                        agency TEXT,
                        UNIQUE (collection, id)
                    )
                    """)
            try db.execute(sql: "CREATE INDEX record_with_conflicts ON record (conflicts) WHERE conflicts > 0")
            // Per-change refusals a server sent back: parked, shown, never lost.
            try db.execute(
                sql: """
                    CREATE TABLE refused (
                        id TEXT PRIMARY KEY,
                        collection TEXT NOT NULL,
                        record TEXT NOT NULL,
                        field TEXT,
                        reason TEXT NOT NULL,
                        at INTEGER NOT NULL
                    ) WITHOUT ROWID
                    """)
            // What lists and filters read. Personal values here (names) are
            // deleted with the record on erasure; no FTS index on them.
            try db.execute(
                sql: """
                    CREATE TABLE record_index (
                        collection TEXT NOT NULL,
                        id TEXT NOT NULL,
                        agency TEXT,
                        referent TEXT,
                        status TEXT,
                        seeker TEXT,
                        session TEXT,
                        name_key TEXT,
                        summary TEXT NOT NULL,
                        PRIMARY KEY (collection, id)
                    ) WITHOUT ROWID
                    """)
            try db.execute(sql: "CREATE INDEX record_index_by_agency ON record_index (collection, agency, referent)")
            try db.execute(sql: "CREATE INDEX record_index_by_seeker ON record_index (seeker)")
            try db.execute(sql: "CREATE INDEX record_index_by_session ON record_index (session)")
            // Who follows a seeker (referent and temporary followers) and who
            // facilitates a session: what node views are computed from. Kept for
            // deleted records, removed for erased ones.
            try db.execute(
                sql: """
                    CREATE TABLE record_link (
                        collection TEXT NOT NULL, record TEXT NOT NULL, role TEXT NOT NULL, value TEXT NOT NULL,
                        PRIMARY KEY (collection, record, role, value)
                    ) WITHOUT ROWID
                    """)
            try db.execute(sql: "CREATE INDEX record_link_by_value ON record_link (role, value)")
            // Per-peer sync checkpoints.
            try db.execute(
                sql: """
                    CREATE TABLE checkpoint (
                        peer TEXT PRIMARY KEY,
                        sent INTEGER NOT NULL DEFAULT 0,
                        received TEXT
                    ) WITHOUT ROWID
                    """)
        }
        migrator.registerMigration("v2: change_by_record covers origin") { db in
            // Whether a record's every change came from one node (asked by
            // the server on each push) is then two index seeks, not a read
            // of the record's whole history.
            try db.execute(sql: "DROP INDEX change_by_record")
            try db.execute(sql: "CREATE INDEX change_by_record ON change (collection, record, origin)")
        }
        migrator.registerMigration("v3: the log's sequence kept in meta") { db in
            // `AUTOINCREMENT` wrote `sqlite_sequence`, a page of its own, on
            // every commit that logged a change. The high-water mark now
            // lives in `meta`, whose page the clock already writes
            // (``WriteSession/flush()``). The table is rebuilt: SQLite
            // cannot drop `AUTOINCREMENT` from a table in place.
            try db.execute(
                sql: """
                    INSERT INTO meta (key, value)
                    SELECT 'sequence', CAST(max(coalesce((SELECT max(seq) FROM change), 0),
                                                coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'change'), 0))
                                            AS TEXT)
                    """)
            // v1's columns, repeated on purpose: a migration states the
            // schema of its own version, whatever later ones do.
            try db.execute(
                sql: """
                    CREATE TABLE change_v3 (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        origin TEXT NOT NULL,
                        time INTEGER NOT NULL,
                        collection TEXT NOT NULL,
                        record TEXT NOT NULL,
                        field TEXT,
                        key TEXT,
                        op TEXT NOT NULL,
                        body TEXT NOT NULL,
                        purged INTEGER NOT NULL DEFAULT 0
                    )
                    """)
            try db.execute(
                sql: """
                    INSERT INTO change_v3 (seq, id, origin, time, collection, record, field, key, op, body, purged)
                    SELECT seq, id, origin, time, collection, record, field, key, op, body, purged FROM change ORDER BY seq
                    """)
            try db.execute(sql: "DROP TABLE change")
            try db.execute(sql: "ALTER TABLE change_v3 RENAME TO change")
            try db.execute(sql: "CREATE INDEX change_by_record ON change (collection, record, origin)")
            try db.execute(sql: "CREATE INDEX change_by_origin ON change (origin, seq)")
        }
        migrator.registerMigration("v4: fewer pages per edit") { db in
            // `change_by_origin` was a page of every edit and a b-tree of
            // every applied change, for one question asked once per sync:
            // which of this node's changes come after the server's
            // checkpoint. The log's own order answers it, scanning from the
            // checkpoint, which ``RecordStore/settleCheckpoint(peer:)``
            // keeps at the log's end while nothing is pending.
            try db.execute(sql: "DROP INDEX change_by_origin")
            // Zero bytes that keep a large state's row the same size from
            // one edit to the next (``WriteSession/padding(forState:)``).
            // Rows written before get theirs when next written.
            try db.execute(sql: "ALTER TABLE record ADD COLUMN pad BLOB")
            // The clock (as `meta` writes it, 16 hex digits) and the change
            // counter, on the last change each write logs: its page is
            // written anyway, and `meta`'s need not be
            // (``WriteSession/saveClock(_:counter:resetting:)``). NULL on
            // every other change.
            try db.execute(sql: "ALTER TABLE change ADD COLUMN clock TEXT")
            try db.execute(sql: "ALTER TABLE change ADD COLUMN counter INTEGER")
            // Whatever removes the log's last change (a compaction, a
            // restamp, a record leaving the view, a revocation's purge),
            // `meta` first keeps what it carried, so that no clock time,
            // counter or sequence is ever given twice.
            try db.execute(
                sql: """
                    CREATE TRIGGER change_keeps_clock BEFORE DELETE ON change
                    WHEN old.seq = (SELECT max(seq) FROM change)
                    BEGIN
                        UPDATE meta SET value = max(value, old.clock) WHERE key = 'clock' AND old.clock IS NOT NULL;
                        UPDATE meta SET value = CAST(max(CAST(value AS INTEGER), old.counter) AS TEXT)
                            WHERE key = 'counter' AND old.counter IS NOT NULL;
                        INSERT INTO meta (key, value) VALUES ('sequence', CAST(old.seq AS TEXT))
                            ON CONFLICT (key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), old.seq) AS TEXT);
                    END
                    """)
        }
        migrator.registerMigration("v5: the log by record on servers only") { db in
            // On a laptop `change_by_record` cost every edit 1.34 pages and
            // about 10 µs (`docs/performance.md`), for questions a laptop
            // rarely asks: an erasure's purge and a restamp, which now scan
            // the log, and records leaving the view, dropped in one scan. A
            // server asks on every push who wrote the pushed records, so its
            // store keeps the index (agency `*` is the server's own identity,
            // never a node's; ``RecordStore/readyForServing()`` makes the
            // index for any store a server is started on).
            let agency = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'agency'")
            if agency != RecordStore.serverAgency {
                try db.execute(sql: "DROP INDEX change_by_record")
            }
        }
        return migrator
    }

    /// The agency of the server's own identity in its record store: never a
    /// node's (node agencies are codes of letters, digits, `-` and `_`).
    static let serverAgency = "*"

    /// The index a server needs to tell who wrote a record (its least and
    /// greatest origin, two seeks): ``createdOnlyBy(_:among:)``.
    static let serverLogIndex = "CREATE INDEX IF NOT EXISTS change_by_record ON change (collection, record, origin)"
}
