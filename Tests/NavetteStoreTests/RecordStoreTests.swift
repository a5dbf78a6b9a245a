import Foundation
import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

struct RecordStoreTests {
    @Test func durabilityAndErasureSettingsAreOn() throws {
        let s = try DiskStore(1)
        defer { s.done() }
        #expect(try s.store.pragma("journal_mode") == "wal")
        #expect(try s.store.pragma("synchronous") == "2", "synchronous must be FULL")
        #expect(try s.store.pragma("secure_delete") == "1")
        let reopened = try RecordStore.open(directory: s.dir.appending("node"))
        #expect(try reopened.pragma("synchronous") == "2")
        #expect(try reopened.pragma("secure_delete") == "1")
    }

    @Test func creatingTwiceOrOpeningNothingIsAClearError() throws {
        let s = try DiskStore(1)
        defer { s.done() }
        #expect {
            try RecordStore.create(directory: s.dir.appending("node"), identity: identity(2))
        } throws: { ($0 as? StoreError)?.code == .alreadyInitialised }
        #expect {
            try RecordStore.open(directory: s.dir.appending("nothing-here"))
        } throws: { e in
            (e as? StoreError)?.code == .notInitialised && "\(e)".contains("navette node init")
        }
        #expect(try RecordStore.open(directory: s.dir.appending("node")).identity == identity(1))
    }

    @Test func editsAreThereAfterReopeningAndIDsNeverRepeat() throws {
        let s = try DiskStore(1)
        defer { s.done() }
        let id = try s.store.createRecord("seeker", [.set("identity.lastName", "Martin"), .set("contact.phone", "0100")])
        let first = try RecordStore.open(directory: s.dir.appending("node"))
        let c = try first.edit("seeker", id, [.set("contact.phone", "0199")])
        #expect(c[0].id.counter == 3)
        #expect(c[0].pred.count == 1)
        let again = try RecordStore.open(directory: s.dir.appending("node"))
        let phone = try again.state("seeker", id)!.view(of: Schema.navette.field("seeker", "contact.phone")!)
        guard case .register(let v?, let others) = phone else { Issue.record("no phone"); return }
        #expect(v.value == "0199" && others.isEmpty)
        #expect(try again.edit("seeker", id, [.increment("unansweredContactAttempts", by: 1)])[0].id.counter == 4)
    }

    /// Found by the conformance tool: once compaction had deleted every
    /// logged change, the last sequence read 0, below the horizon, so a
    /// bootstrap's cursor was expired as soon as it was issued.
    @Test func theLastSequenceNeverGoesBackWhenTheLogIsCompactedAway() throws {
        let clock = ManualClock(millis: 1_767_600_000_000)
        let s = try DiskStore(1, clock: clock)
        defer { s.done() }
        let id = try s.store.createRecord("seeker", [.set("identity.lastName", "Martin"), .set("contact.phone", "0100")])
        let last = try s.store.lastSequence()
        #expect(last == 2)
        clock.advance(by: 1_000)
        let horizon = try s.store.compactLog(before: clock.millis)
        #expect(horizon == last)
        #expect(try s.store.lastSequence() == last, "the last sequence went back below the horizon")
        let next = try s.store.edit("seeker", id, [.set("contact.phone", "0199")])
        #expect(next.count == 1)
        #expect(try s.store.lastSequence() == last + 1, "a sequence below the horizon was given again")
    }

    @Test func anInvalidEditChangesNothing() throws {
        let store = try RecordStore.inMemory(identity: identity(1))
        let id = try store.createRecord("seeker", [.set("identity.lastName", "Martin")])
        let before = try store.exportCanonical()
        let changes = try store.status().changes
        #expect(throws: ValidationError.self) {
            // The first edit is valid, the second is not: the action is refused whole.
            try store.edit("seeker", id, [.set("contact.phone", "0100"), .set("identity.birthDate", "31/12/1990")])
        }
        #expect(try store.exportCanonical() == before)
        #expect(try store.status().changes == changes)
        let next = try store.edit("seeker", id, [.set("contact.phone", "0100")])
        #expect(next[0].id.counter == 2, "a refused action must not use up counters")
    }

    @Test func remoteBatchesApplyIdempotentlyInAnyOrder() throws {
        let seed = testSeed(0xBA7C4)
        print("batches: seed \(seed) (NAVETTE_SEED replays)")
        var rng = SplitMix64(seed: seed)
        let changes = AgencyDataset.generate(seed: seed, sizes: .scaled(seekers: 25))
        let inOrder = try RecordStore.inMemory(identity: identity(10))
        _ = try inOrder.apply(changes)
        let shuffled = try RecordStore.inMemory(identity: identity(11))
        var pending = rng.shuffled(changes + changes.filter { _ in rng.chance(0.2) })
        var duplicates = 0
        while !pending.isEmpty {
            let n = min(pending.count, rng.int(in: 1...300))
            duplicates += try shuffled.apply(Array(pending.prefix(n))).duplicates
            pending.removeFirst(n)
        }
        #expect(duplicates >= changes.count / 10, "seed \(seed)")
        var memory = MemoryReplica(node: NodeID(rawValue: 12))
        memory.apply(changes)
        let export = try inOrder.exportCanonical()
        #expect(try shuffled.exportCanonical() == export, "seed \(seed)")
        #expect(memory.export() == export, "the SQLite store and the in-memory model disagree, seed \(seed)")
        let again = try inOrder.apply(changes)
        #expect(again.applied == 0 && again.duplicates == changes.count)
    }

    @Test func aPeersChangeToAnUnknownFieldIsStoredAndRelayedByteForByte() throws {
        let text =
            #"{"collection":"seeker","field":"wellbeing.score","id":"00000000000000ff-1","op":"set","record":"11111111-1111-4111-8111-111111111111","time":"0000000003e80000","value":{"score":3.5},"x-new":[1,2]}"#
        let change = try Change(encoded: Array(text.utf8))
        let a = try RecordStore.inMemory(identity: identity(1))
        #expect(try a.apply([change]).applied == 1)
        let relayed = try a.changes(after: 0)
        #expect(relayed.map(\.change.encoded) == [text])
        let b = try RecordStore.inMemory(identity: identity(2))
        try b.pull(from: a)
        #expect(try b.exportCanonical() == a.exportCanonical())
        #expect(try b.exportCanonical().contains("wellbeing.score"))
    }

    @Test func changesFromTheFutureAreAppliedAndCounted() throws {
        let clock = ManualClock(millis: 1_767_600_000_000)
        let a = try RecordStore.inMemory(identity: identity(1), configuration: .init(wallClock: clock.read))
        let b = try RecordStore.inMemory(identity: identity(2), configuration: .init(wallClock: clock.read))
        clock.advance(by: 3 * 24 * 3_600_000)  // A's laptop is three days ahead
        let id = try a.createRecord("seeker", [.set("identity.lastName", "Martin")])
        clock.advance(by: -3 * 24 * 3_600_000)
        let summary = try b.pull(from: a)
        #expect(summary.applied == 1 && summary.fromTheFuture == 1)
        // B's own clock did not jump three days: its next edit is stamped now.
        let next = try b.edit("seeker", id, [.set("contact.phone", "0100")])[0]
        #expect(next.time.wallMillis <= clock.millis + HybridLogicalClock.defaultMaximumDrift)
        #expect(try b.state("seeker", id) != nil)
    }

    @Test func pullingBetweenStoresConvergesAndAdvancesCheckpoints() throws {
        let a = try RecordStore.inMemory(identity: identity(1))
        let b = try RecordStore.inMemory(identity: identity(2))
        let id = try a.createRecord("seeker", [.set("identity.lastName", "Martin")])
        #expect(try a.status().pending == 1)
        try b.pull(from: a)
        #expect(try a.status().pending == 0)
        try b.edit("seeker", id, [.set("contact.phone", "0100")])
        try a.edit("seeker", id, [.set("contact.phone", "0111")])
        #expect(try b.pull(from: a).applied == 1)
        #expect(try a.pull(from: b).applied == 1)
        #expect(try a.pull(from: b).applied == 0, "a second pull with nothing new applies nothing")
        #expect(try a.exportCanonical() == b.exportCanonical())
        #expect(try a.status().conflicts == 1)
    }

    @Test func aLaptopRestoredFromBackupNeverReusesItsChangeIDs() throws {
        let laptop = try RecordStore.inMemory(identity: identity(1))
        let server = try RecordStore.inMemory(identity: identity(9))
        let id = try laptop.createRecord("seeker", [.set("identity.lastName", "Martin")])
        try server.pull(from: laptop)
        // The laptop is restored from a backup taken before it made those changes.
        let restored = try RecordStore.inMemory(identity: identity(1))
        try restored.pull(from: server)
        let next = try restored.edit("seeker", id, [.set("contact.phone", "0100")])[0]
        #expect(next.id.counter == 2, "counter 1 is taken by the change the server returned")
        #expect(try server.pull(from: restored).applied == 1)
    }
}

extension RecordStoreTests {
    @Test func aNewRecordStatesItsAgencyFirst() throws {
        let store = try RecordStore.inMemory(identity: identity(1))
        let id = try store.createRecord("seeker", [.set("identity.lastName", "X"), .set("contact.phone", "1"), .set("agency", "069-lyon-3")])
        let fields = try store.changes(after: 0).map(\.change.field)
        #expect(fields == ["agency", "identity.lastName", "contact.phone"])
        // On an existing record the order is the user's.
        try store.edit("seeker", id, [.set("contact.phone", "2"), .set("agency", "069-lyon-3")])
        #expect(try store.changes(after: 3).map(\.change.field) == ["contact.phone", "agency"])
    }
}
