import Foundation
import GRDB
import Synchronization

/// Runs the WAL checkpoints of a store file on a connection and a thread of
/// their own, so that no edit waits for one.
///
/// SQLite checkpoints, by default, in the commit that takes the WAL past
/// 1,000 pages: that commit copies the pages into the database file and
/// syncs it. An edit writes several pages, so about one edit in 75 paid for
/// it, 2–3 ms instead of 0.5 (`docs/performance.md`). Here, every half
/// second, a passive checkpoint copies what the WAL holds; it never blocks a
/// writer, and costs nothing when the WAL is already copied. The store's own
/// connection still checkpoints if this one falls far behind
/// (``RecordStore/inlineCheckpointPages``).
///
/// One thread of the process serves every store: not a Dispatch queue,
/// whose threads the process's blocking work may all hold.
final class Checkpointer: Sendable {
    /// The connection; `nil` once stopped.
    private let connection: Mutex<DatabaseQueue?>

    init(path: String, configuration: GRDB.Configuration) throws {
        connection = Mutex(try DatabaseQueue(path: path, configuration: configuration))
        CheckpointThread.shared.register(self)
    }

    /// Copies what the WAL holds into the database file, if not stopped.
    func checkpoint() {
        connection.withLock { queue in
            // A failure (the disk full) leaves the WAL to the store's own
            // connection, which checkpoints it inline as before.
            _ = try? queue?.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        }
    }

    /// Runs `body` while this checkpointer runs no checkpoint (after the one
    /// under way, if any): SQLite refuses a checkpoint while another runs.
    func pausing(_ body: () throws -> Void) throws {
        try connection.withLock { _ in try body() }
    }

    /// Waits for a checkpoint under way, then closes the connection: after
    /// it returns, this checkpointer touches the file no more.
    func stop() {
        connection.withLock { queue in
            try? queue?.close()
            queue = nil
        }
    }

    deinit { stop() }
}

/// The thread that runs every live ``Checkpointer`` of the process, twice a second.
final class CheckpointThread: Sendable {
    static let shared = CheckpointThread()

    struct Member: @unchecked Sendable {
        // @unchecked: a weak reference, read and written under the lock.
        weak var checkpointer: Checkpointer?
    }

    let members = Mutex<[Member]>([])

    private init() {
        // The shared instance lives as long as the process.
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 0.5)
                let live = self.members.withLock { m in
                    m.removeAll { $0.checkpointer == nil }
                    return m.compactMap(\.checkpointer)
                }
                for c in live { c.checkpoint() }
            }
        }
        thread.name = "navette.store.checkpoint"
        thread.start()
    }

    func register(_ checkpointer: Checkpointer) {
        members.withLock { $0.append(Member(checkpointer: checkpointer)) }
    }
}
