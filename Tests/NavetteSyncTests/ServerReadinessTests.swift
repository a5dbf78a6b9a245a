import GRDB
import Logging
import NavetteCore
import NavetteServer
import NavetteTesting
import Testing

@testable import NavetteStore

/// A server asks on every push who wrote the pushed records; since store
/// version 5 a laptop's store has no index for it. However a server is
/// made over a SQLite record store, the store gets the index.
struct ServerReadinessTests {
    func byRecordIndexes(_ store: RecordStore) throws -> [String] {
        try store.queue.reading { db in
            try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'change_by_record'")
        }
    }

    @Test func aServerOverALaptopsStoreIndexesItsLogByRecord() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-ready")
        defer { dir.remove() }
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let config = ServerConfiguration(host: "127.0.0.1", port: 0, wallClock: RecordStore.systemMillis)
        let laptop = NodeIdentity(node: NodeID(rawValue: 3), name: "laptop", agency: "069-lyon-3")

        let started = try RecordStore.create(directory: dir.appending("started"), identity: laptop)
        #expect(try byRecordIndexes(started).isEmpty)
        _ = try await SyncServer.start(
            records: started, registry: try ServerRegistry.inMemory(), configuration: config, logger: logger)
        #expect(try byRecordIndexes(started) == ["change_by_record"])

        let made = try RecordStore.create(directory: dir.appending("made"), identity: laptop)
        #expect(try byRecordIndexes(made).isEmpty)
        _ = try SyncServer(store: made, registry: try ServerRegistry.inMemory(), configuration: config, logger: logger)
        #expect(try byRecordIndexes(made) == ["change_by_record"])
    }
}
