import GRDB
import NavetteCore
import NavetteTesting
import Testing

@testable import NavetteStore

/// Since store version 5 a laptop's log has no index by record (a page of
/// every edit); a server's keeps it, and what a laptop asks of its log by
/// record reads the log once, for every record at a time.
struct LogByRecordTests {
    func indexes(_ queue: DatabaseQueue) throws -> Set<String> {
        try queue.reading { db in
            Set(
                try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'change'"))
        }
    }

    /// A version 4 store with the given agency in its identity, in `dir`.
    func v4Store(in dir: TemporaryDirectory, agency: String) throws {
        let queue = try RecordStore.makeQueue(path: RecordStore.storePath(directory: dir.path))
        try RecordStore.migrator.migrate(queue, upTo: "v4: fewer pages per edit")
        try queue.writing { db in
            for (k, v) in [
                ("node", NodeID(rawValue: 9).description), ("name", "n"), ("agency", agency),
                ("counter", "0"), ("clock", Timestamp.zero.description),
            ] {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [k, v])
            }
        }
        try queue.close()
    }

    @Test func aLaptopsLogHasNoIndexByRecordAndAServersHasOne() throws {
        let byRecord = "change_by_record"
        // A new laptop's store, and a laptop's store upgraded from version 4.
        let s = try DiskStore(1)
        defer { s.done() }
        #expect(try indexes(s.store.queue) == ["sqlite_autoindex_change_1"])
        let laptop = try TemporaryDirectory()
        defer { laptop.remove() }
        try v4Store(in: laptop, agency: "069-lyon-3")
        #expect(try indexes(RecordStore.open(directory: laptop.path).queue) == ["sqlite_autoindex_change_1"])

        // A server's store (its identity's agency is `*`) upgraded from
        // version 4 keeps the index, which it already had.
        let server = try TemporaryDirectory()
        defer { server.remove() }
        try v4Store(in: server, agency: RecordStore.serverAgency)
        let served = try RecordStore.open(directory: server.path)
        #expect(try indexes(served.queue).contains(byRecord))

        // A store made as a node's gets the index when a server is readied
        // on it, once however often it is readied; who wrote a record is
        // then read from the index.
        try s.store.readyForServing()
        try s.store.readyForServing()
        #expect(try indexes(s.store.queue) == ["sqlite_autoindex_change_1", byRecord])
        let plan = try s.store.queue.reading { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT min(origin) FROM change WHERE collection = 'seeker' AND record = 's1'"
            ).map { $0["detail"] as String }.joined()
        }
        #expect(plan.contains(byRecord), "\(plan)")
    }

    /// Records leaving the view leave the log together; every other
    /// record's changes stay, and the records read as before.
    @Test func recordsLeavingTheViewLeaveTheLogInOneScan() throws {
        let s = try DiskStore(1)
        defer { s.done() }
        for id in ["s1", "s2", "s3", "s'4"] {
            for phone in ["0100", "0101"] {
                try s.store.edit("seeker", id, [.set("agency", "069-lyon-3"), .set("contact.phone", .string(phone))])
            }
        }
        let kept = try s.store.changes(after: 0).map(\.change).filter { !["s1", "s'4"].contains($0.record) }
        let s3 = try s.store.state("seeker", "s3")
        try s.store.drop([RecordRef("seeker", "s1"), RecordRef("seeker", "s'4"), RecordRef("seeker", "never-held")])
        #expect(try s.store.changes(after: 0).map(\.change.id) == kept.map(\.id))
        #expect(kept.count == 8)
        #expect(try s.store.state("seeker", "s1") == nil)
        #expect(try s.store.state("seeker", "s'4") == nil)
        #expect(try s.store.state("seeker", "s3") == s3)
        #expect(try s.store.integrityCheck() == "ok")
    }

    /// A restamp rebuilds each touched record from its log, another node's
    /// changes included, in one read of the log.
    @Test func aRestampRebuildsEveryTouchedRecordFromItsLog() throws {
        let clock = ManualClock(millis: 1_900_000_000_000)
        let s = try DiskStore(1, clock: clock)
        defer { s.done() }
        let other = NodeID(rawValue: 0xB)
        let theirs = Change(
            id: ChangeID(origin: other, counter: 1), time: Timestamp(wallMillis: 1_700_000_000_000, counter: 0),
            collection: "seeker", record: "s2", field: "contact.email", key: nil, operation: .set,
            value: "s2@example.org")
        try s.store.apply([theirs])
        // Edits stamped a month ahead, as by a laptop whose clock was wrong.
        let made = try s.store.perform([
            (RecordRef("seeker", "s1"), [.set("agency", "069-lyon-3"), .set("contact.phone", "0100")]),
            (RecordRef("seeker", "s2"), [.set("agency", "069-lyon-3"), .set("contact.phone", "0200")]),
            (RecordRef("seeker", "s3"), [.set("agency", "069-lyon-3")]),
        ])
        let s3 = try s.store.state("seeker", "s3")
        clock.set(1_800_000_000_000)
        let restamped = try s.store.restamp(made.filter { $0.record != "s3" }.map(\.id))
        #expect(restamped.count == 4)
        #expect(restamped.allSatisfy { $0.time.wallMillis < 1_900_000_000_000 })
        for id in ["s1", "s2"] {
            let log = try s.store.changes(after: 0).map(\.change).filter { $0.record == id }
            var rebuilt = RecordState()
            for change in log { rebuilt.apply(change) }
            #expect(try s.store.state("seeker", id) == rebuilt, "\(id)")
        }
        let s2 = try #require(try s.store.state("seeker", "s2"))
        #expect(s2.slots[SlotKey(field: "contact.email")]?.values.first?.value.value == "s2@example.org")
        #expect(s2.slots[SlotKey(field: "contact.phone")]?.values.first?.value.value == "0200")
        #expect(try s.store.state("seeker", "s3") == s3)
    }
}
