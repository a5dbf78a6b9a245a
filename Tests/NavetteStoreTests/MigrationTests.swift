import GRDB
import NavetteCore
import NavetteTesting
import Testing

@testable import NavetteStore

/// Store files written by an earlier release open in this one, keep their
/// log as it was, and never reuse a sequence the earlier release gave.
struct MigrationTests {
    /// A store file as release v2 left it: its log numbered by
    /// `AUTOINCREMENT`, whose high-water mark (in `sqlite_sequence`) is
    /// above the last change held, as after a compaction or a restamp.
    func v2Store(in dir: TemporaryDirectory) throws -> (log: [(Int64, String)], highWater: Int64) {
        let changes = Array(AgencyDataset.generate(seed: 7, sizes: .scaled(seekers: 20)).prefix(300))
        let queue = try RecordStore.makeQueue(path: RecordStore.storePath(directory: dir.path))
        try RecordStore.migrator.migrate(queue, upTo: "v2: change_by_record covers origin")
        return try queue.writing { db in
            for (k, v) in [
                ("node", NodeID(rawValue: 5).description), ("name", "node 5"), ("agency", "069-lyon-3"),
                ("counter", "0"), ("clock", Timestamp.zero.description),
            ] {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [k, v])
            }
            for c in changes {
                try db.execute(
                    sql: """
                        INSERT INTO change (id, origin, time, collection, record, field, key, op, body, purged)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                        """,
                    arguments: [
                        c.id.description, c.id.origin.description, Int64(bitPattern: c.time.rawValue), c.collection,
                        c.record, c.field, c.key, c.operation.name, c.encoded,
                    ])
            }
            try db.execute(sql: "DELETE FROM change WHERE seq > 295")
            let highWater = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'change'")
            let log = try Row.fetchAll(db, sql: "SELECT seq, id FROM change ORDER BY seq").map {
                (row: Row) -> (Int64, String) in (row["seq"], row["id"])
            }
            return (log, highWater ?? 0)
        }
    }

    @Test func aV2StoreKeepsItsLogAndItsHighWaterMark() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (log, highWater) = try v2Store(in: dir)
        #expect(highWater == 300)
        #expect(log.count == 295)

        let store = try RecordStore.open(directory: dir.path)
        #expect(try store.lastSequence() == 300)
        let kept = try store.loggedChanges(after: 0, limit: 1_000)
        #expect(kept.map(\.sequence) == log.map(\.0))
        #expect(kept.map(\.change.id.description) == log.map(\.1))

        // The first change logged after the upgrade comes after every
        // sequence the old release gave, deleted ones included.
        try store.edit("seeker", "new-seeker", [.set("agency", "069-lyon-3"), .set("contact.phone", "0100")])
        let mine = try store.ownChanges(after: 0, limit: 10)
        #expect(mine.map(\.sequence) == [301, 302])
        #expect(try store.lastSequence() == 302)
        try store.queue.reading { db in
            let table = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'change'") ?? ""
            #expect(!table.contains("AUTOINCREMENT"))
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_sequence WHERE name = 'change'") == 0)
            let indexes = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'change'")
            // Version 4 dropped the index by origin (a page of every edit),
            // and version 5 a laptop's index by record (`LogByRecordTests`).
            #expect(Set(indexes) == ["sqlite_autoindex_change_1"])
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(record)").map { $0["name"] as String }
            #expect(columns.last == "pad")
        }
        #expect(try store.integrityCheck() == "ok")
    }

    /// A store a newer version wrote is refused, not opened and changed:
    /// this version would not find the clock where the newer one keeps it.
    @Test func aStoreFromANewerVersionIsRefusedUntouched() throws {
        let s = try DiskStore(1)
        defer { s.done() }
        try s.store.edit("seeker", "s1", [.set("agency", "069-lyon-3")])
        try s.store.queue.writing { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9: from the future')")
        }
        let before = try s.store.exportCanonical()
        #expect {
            _ = try RecordStore.open(directory: s.dir.appending("node"))
        } throws: { error in
            (error as? StoreError)?.code == .unsupportedVersion
                && "\(error)".contains("newer version of Navette")
        }
        #expect(try s.store.exportCanonical() == before)
    }

    /// A sequence stays given after its change leaves the log, across a
    /// reopening: no later change takes it.
    @Test func aSequenceIsNeverGivenTwice() throws {
        let clock = ManualClock(millis: 1_800_000_000_000)
        let s = try DiskStore(1, clock: clock)
        defer { s.done() }
        for phone in ["0100", "0101", "0102"] {
            try s.store.edit("seeker", "s1", [.set("contact.phone", .string(phone))])
        }
        clock.advance(by: 1_000)
        #expect(try s.store.compactLog(before: clock.millis) == 3)
        #expect(try s.store.loggedChanges(after: 0, limit: 10).isEmpty)
        #expect(try s.store.lastSequence() == 3)

        let reopened = try RecordStore.open(directory: s.dir.appending("node"))
        try reopened.edit("seeker", "s1", [.set("contact.phone", "0103")])
        #expect(try reopened.loggedChanges(after: 0, limit: 10).map(\.sequence) == [4])
        #expect(try reopened.lastSequence() == 4)
    }
}
