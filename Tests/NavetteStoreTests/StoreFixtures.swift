import Foundation
import GRDB
import NavetteCore
import NavetteStore
import NavetteTesting

func identity(_ n: UInt64, counsellor: String? = "c1") -> NodeIdentity {
    NodeIdentity(node: NodeID(rawValue: n), name: "node \(n)", agency: "069-lyon-3", counsellor: counsellor)
}

/// A store on disk in a fresh directory; the directory is removed by `done()`.
struct DiskStore {
    let dir: TemporaryDirectory
    let store: RecordStore

    init(_ n: UInt64, clock: ManualClock? = nil) throws {
        dir = try TemporaryDirectory(prefix: "navette-store")
        var config = RecordStore.Configuration()
        if let clock { config.wallClock = clock.read }
        store = try RecordStore.create(directory: dir.appending("node"), identity: identity(n), configuration: config)
    }

    func done() { dir.remove() }
}

/// A bare SQLite file in a fresh directory, with `statements` run on it:
/// for tests of the store's database plumbing. Remove the directory after.
func scratchDatabase(_ statements: String...) throws -> (DatabaseQueue, TemporaryDirectory) {
    let dir = try TemporaryDirectory()
    let queue = try DatabaseQueue(path: dir.appending("scratch.sqlite"))
    try queue.write { db in
        for sql in statements { try db.execute(sql: sql) }
    }
    return (queue, dir)
}
