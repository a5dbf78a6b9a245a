import NavetteCore
import NavetteTesting
import Testing

@testable import NavetteStore

/// What a node still has to push: its own changes after the server's
/// checkpoint. The log has no index by origin (store version 4), so the
/// checkpoint moves past others' changes once nothing is pending.
struct PendingChangesTests {
    /// Node 2's store after it pulled node 1's edits: 50 changes of
    /// another origin, none of its own.
    func pulledStore() throws -> (DiskStore, DiskStore) {
        let a = try DiskStore(1)
        let b = try DiskStore(2)
        for n in 0..<25 {
            try a.store.edit("seeker", "s\(n)", [.set("agency", "069-lyon-3"), .set("contact.phone", .string("01\(n)"))])
        }
        _ = try b.store.apply(a.store.loggedChanges(after: 0, limit: 1_000).map(\.change))
        return (a, b)
    }

    @Test func aCheckpointSettlesAtTheLogsEndWhenNothingIsPending() throws {
        let (a, b) = try pulledStore()
        defer { a.done(); b.done() }
        #expect(try b.store.lastSequence() == 50)
        #expect(try b.store.ownChanges(after: 0, limit: 10).isEmpty)
        #expect(try b.store.settleCheckpoint(peer: "server") == 50)
        #expect(try b.store.checkpoint(peer: "server") == 50)

        // An edit made after it comes after it, and keeps it there.
        try b.store.edit("seeker", "s3", [.set("contact.email", "x@example.org")])
        let pending = try b.store.ownChanges(after: 50, limit: 10)
        #expect(pending.map(\.sequence) == [51])
        #expect(pending.map(\.change.id.origin) == [b.store.identity.node])
        #expect(try b.store.settleCheckpoint(peer: "server") == 50)
        #expect(try b.store.status().pending == 1)

        // Once pushed, and after more pulled changes, it settles again.
        try b.store.setCheckpoint(peer: "server", sequence: 51)
        try a.store.edit("seeker", "s4", [.set("contact.phone", "0999")])
        _ = try b.store.apply(a.store.loggedChanges(after: 50, limit: 10).map(\.change))
        #expect(try b.store.lastSequence() == 52)
        #expect(try b.store.settleCheckpoint(peer: "server") == 52)
        #expect(try b.store.status().pending == 0)
    }

    /// An edit made before a pull is still pending behind the pulled
    /// changes: settling must not skip it.
    @Test func aPendingEditBeforePulledChangesHoldsTheCheckpoint() throws {
        let a = try DiskStore(1)
        let b = try DiskStore(2)
        defer { a.done(); b.done() }
        try b.store.edit("seeker", "mine", [.set("agency", "069-lyon-3")])
        try a.store.edit("seeker", "theirs", [.set("agency", "069-lyon-3")])
        _ = try b.store.apply(a.store.loggedChanges(after: 0, limit: 10).map(\.change))
        #expect(try b.store.lastSequence() == 2)
        #expect(try b.store.settleCheckpoint(peer: "server") == 0)
        #expect(try b.store.ownChanges(after: 0, limit: 10).map(\.sequence) == [1])
        #expect(try b.store.status().pending == 1)
    }
}
