import Foundation
import Synchronization
import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// The WAL is copied into the database file in the background, so that no
/// edit pays for a checkpoint; the store's own commits checkpoint only far
/// past SQLite's default (1,000 pages).
struct CheckpointTests {
    /// Whether the database file itself (not its WAL) holds `needle`,
    /// within about `seconds`.
    func databaseFile(_ path: String, holds needle: String, within seconds: Int = 5) async throws -> Bool {
        let bytes = Data(needle.utf8)
        for _ in 0..<(seconds * 20) {
            if try Data(contentsOf: URL(fileURLWithPath: path)).range(of: bytes) != nil { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// With the store's inline checkpoints at 10,000 pages, only the
    /// background checkpoint copies these few pages into the file.
    @Test func anEditReachesTheDatabaseFileFromTheBackground() async throws {
        let disk = try DiskStore(1)
        defer { disk.done() }
        let id = try disk.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("identity.lastName", "Zqbefore")])
        #expect(try await databaseFile(disk.store.path, holds: "Zqbefore"))
        try disk.store.edit("seeker", id, [.set("contact.phone", "06 11 22 33 44")])
        #expect(try await databaseFile(disk.store.path, holds: "06 11 22 33 44"), "the background checkpoint copied the edit into the file")
    }

    @Test func aStoreClosedAfterItsEditsLeavesThemAllInTheDatabaseFile() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-ckpt")
        defer { dir.remove() }
        let node = dir.appending("node")
        do {
            let store = try RecordStore.create(directory: node, identity: identity(1))
            for i in 0..<50 {
                _ = try store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("identity.lastName", .string("Zqclosed\(i)"))])
            }
        }
        // Closed: no WAL is left, and a copy of the file alone is whole.
        #expect(!FileManager.default.fileExists(atPath: RecordStore.storePath(directory: node) + "-wal"))
        let copy = dir.appending("copy")
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: RecordStore.storePath(directory: node), toPath: RecordStore.storePath(directory: copy))
        let reopened = try RecordStore.open(directory: copy)
        #expect(try reopened.list("seeker").count == 50)
    }

    /// SQLite refuses a checkpoint while another connection runs one, at
    /// once and whatever the busy timeout (SQLITE_BUSY). An erasure ends
    /// with a truncating checkpoint, and another connection to the file may
    /// be checkpointing then: the background checkpointer, or a command run
    /// while the node syncs. The erasure, committed, must not fail for it.
    @Test func aTruncatingCheckpointWaitsForAnotherConnectionsCheckpoint() throws {
        let disk = try DiskStore(1)
        defer { disk.done() }
        let other = try RecordStore.open(directory: disk.dir.appending("node"))
        let peer = try RecordStore.inMemory(identity: identity(2))
        let done = Atomic<Bool>(false)
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 1 {
                // The other connection checkpoints whatever the WAL holds.
                while !done.load(ordering: .acquiring) {
                    do { try other.truncateWAL() } catch { failures.withLock { $0.append("the other connection: \(error)") } }
                }
                return
            }
            defer { done.store(true, ordering: .releasing) }
            for round in 0..<30 {
                do {
                    // About 400 KB into the WAL, which the other connection
                    // then takes a while to copy.
                    for i in 0..<20 {
                        _ = try peer.createRecord("seeker", [
                            .set("agency", "069-lyon-3"), .set("notes", .string(String(repeating: "\(round % 10)\(i % 10)", count: 10_000))),
                        ])
                    }
                    try disk.store.pull(from: peer)
                    try disk.store.truncateWAL()
                } catch {
                    failures.withLock { $0.append("round \(round): \(error)") }
                }
            }
        }
        let seen = failures.withLock { $0 }
        #expect(seen.count == 0, "\(seen.count) truncations failed, first: \(seen.first ?? "")")
    }
}
