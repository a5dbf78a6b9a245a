import GRDB
import NavetteCore
import NavetteTesting
import Testing

@testable import NavetteStore

/// An edit stamps the clock, the change counter and the sequence on the
/// change it logs (store version 4), not on `meta`. Whatever removes the
/// log's last change, a reopened store never gives a time, a counter or a
/// sequence twice: a repeated id would be a change silently dropped as a
/// duplicate by every peer.
struct ClockKeepingTests {
    /// The last change's id, time and sequence.
    func last(_ store: RecordStore) throws -> (counter: UInt64, time: Timestamp, sequence: Int64) {
        let change = try #require(try store.loggedChanges(after: 0, limit: 10_000).last)
        return (change.change.id.counter, change.change.time, change.sequence)
    }

    /// Edits three times, lets `remove` take the log's last changes, reopens
    /// the store with the wall clock where it was, and edits again.
    func editAfter(_ remove: (RecordStore, ManualClock) throws -> Void) throws {
        let clock = ManualClock(millis: 1_800_000_000_000)
        let s = try DiskStore(1, clock: clock)
        defer { s.done() }
        for phone in ["0100", "0101", "0102"] {
            try s.store.edit("seeker", "s1", [.set("agency", "069-lyon-3"), .set("contact.phone", .string(phone))])
        }
        let before = try last(s.store)
        try remove(s.store, clock)
        #expect(try s.store.loggedChanges(after: 0, limit: 10).isEmpty, "the log's last changes are gone")

        var config = RecordStore.Configuration()
        config.wallClock = clock.read
        let reopened = try RecordStore.open(directory: s.dir.appending("node"), configuration: config)
        try reopened.edit("seeker", "s2", [.set("agency", "069-lyon-3")])
        let after = try last(reopened)
        #expect(after.counter == before.counter + 1)
        #expect(after.time > before.time)
        #expect(after.sequence == before.sequence + 1)
    }

    @Test func aCompactedLogGivesNothingTwice() throws {
        try editAfter { store, clock in
            clock.advance(by: 1_000)
            let horizon = try store.compactLog(before: clock.millis)
            #expect(horizon == 6)
        }
    }

    @Test func aDroppedRecordGivesNothingTwice() throws {
        try editAfter { store, _ in try store.drop([RecordRef("seeker", "s1")]) }
    }

    @Test func aPurgedStoreGivesNothingTwice() throws {
        try editAfter { store, _ in try store.purgeAllData() }
    }

    /// The edit's own change carries the clock; `meta` keeps what it held.
    @Test func anEditStampsTheClockOnItsChange() throws {
        let s = try DiskStore(1)
        defer { s.done() }
        try s.store.edit("seeker", "s1", [.set("agency", "069-lyon-3"), .set("contact.phone", "0100")])
        try s.store.queue.reading { db in
            let rows = try Row.fetchAll(db, sql: "SELECT time, clock, counter FROM change ORDER BY seq")
            #expect(rows.count == 2)
            #expect(rows[0]["clock"] as String? == nil && rows[0]["counter"] as Int64? == nil)
            let stamped = try #require(rows[1]["clock"] as String?)
            #expect(Timestamp(stamped)?.rawValue == UInt64(bitPattern: rows[1]["time"] as Int64))
            #expect(rows[1]["counter"] as Int64? == 2)
            #expect(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'counter'") == "0")
        }
    }

    /// A node whose clock ran ahead restamps its refused changes from now:
    /// the clock goes back, and the next edit is stamped from now too, even
    /// when `meta` kept the future clock (here from a record that left the
    /// view, whose change was the log's last).
    @Test func aRestampRestartsTheClockFromNow() throws {
        let clock = ManualClock(millis: 1_800_000_000_000)
        let s = try DiskStore(1, clock: clock)
        defer { s.done() }
        clock.advance(by: 86_400_000)
        try s.store.edit("seeker", "s1", [.set("agency", "069-lyon-3"), .set("contact.phone", "0100")])
        try s.store.edit("seeker", "s2", [.set("agency", "069-lyon-3")])
        let future = try last(s.store)
        try s.store.drop([RecordRef("seeker", "s2")])
        clock.advance(by: -86_400_000)
        let restamped = try s.store.restamp(try s.store.ownChanges(after: 0, limit: 10).map(\.change.id))
        #expect(restamped.count == 2)
        #expect(restamped.allSatisfy { $0.time.wallMillis == clock.millis })
        try s.store.edit("seeker", "s1", [.set("contact.phone", "0101")])
        let next = try last(s.store)
        #expect(next.time < future.time)
        #expect(next.counter == future.counter + 1)
    }

    /// A restamp that finds none of its changes (already stamped again)
    /// still restarts the clock from now: the log's last change, which
    /// carried the future time, carries now's.
    @Test func aRestampOfNothingStillRestartsTheClock() throws {
        let clock = ManualClock(millis: 1_800_000_000_000)
        let s = try DiskStore(1, clock: clock)
        defer { s.done() }
        clock.advance(by: 86_400_000)
        try s.store.edit("seeker", "s1", [.set("agency", "069-lyon-3")])
        let future = try last(s.store)
        clock.advance(by: -86_400_000)
        let gone = ChangeID(origin: s.store.identity.node, counter: 999)
        #expect(try s.store.restamp([gone]).isEmpty)
        try s.store.edit("seeker", "s1", [.set("contact.phone", "0101")])
        let next = try last(s.store)
        #expect(next.time.wallMillis == clock.millis)
        #expect(next.counter == future.counter + 1)
    }
}
