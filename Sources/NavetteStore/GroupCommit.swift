import Dispatch
import GRDB
import Synchronization

/// Commits small concurrent writes to one SQLite file together: a write
/// that arrives while another commits waits for it, then commits in one
/// transaction with every write that arrived meanwhile. One `fdatasync`
/// then serves them all, where each paid for its own.
///
/// What each caller sees is what a transaction of its own would give:
///
/// - the call returns once its write is durable, with its body's result;
/// - writes run one after the other, in the order they arrived, each seeing
///   what the earlier ones wrote (two admissions of one nonce in one group:
///   the second sees the first);
/// - each write runs in a savepoint of its own: one that throws is undone
///   alone, and its error goes to its caller only;
/// - if the commit itself fails, nothing of the group was written, and
///   every caller of the group gets the error.
///
/// The server's registry admits a nonce on every request, and records
/// every push, each a durable commit: under load, those commits are most
/// of what its file costs (`docs/performance.md`).
final class GroupCommit: Sendable {
    private struct Job: Sendable {
        /// Runs the write in its savepoint, keeping its outcome; throws only
        /// when the savepoint itself fails, which fails the whole group.
        let run: @Sendable (Database) throws -> Void
        /// Hands the outcome to the caller once the group committed, or
        /// the commit's error if it did not.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var waiting: [Job] = []
        /// Whether a committer runs now (`commitGroups()`, on a dispatch thread).
        var committing = false
    }

    private let queue: DatabaseQueue
    private let state = Mutex(State())

    init(queue: DatabaseQueue) {
        self.queue = queue
    }

    /// Runs `body` in the next group's transaction, and returns its result
    /// once that transaction is committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Outcome<T>()
            let job = Job(
                run: { db in
                    try db.cachedStatement(sql: "SAVEPOINT groupCommitJob").execute()
                    do {
                        outcome.value = .success(try body(db))
                    } catch {
                        outcome.value = .failure(error)
                        try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT groupCommitJob").execute()
                    }
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT groupCommitJob").execute()
                },
                finish: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: outcome.value!)
                    }
                })
            let leads = state.withLock { state in
                state.waiting.append(job)
                guard !state.committing else { return false }
                state.committing = true
                return true
            }
            // A write that finds none under way starts a committer, on a
            // thread of its own: it commits groups until none waits. No
            // caller's thread waits for a flush, nor keeps committing for
            // writes that came after its own.
            if leads { DispatchQueue.global().async { self.commitGroups() } }
        }
    }

    /// How many writes wait for the group under way (for tests).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    private func commitGroups() {
        while true {
            let group = state.withLock { state -> [Job] in
                let group = state.waiting
                state.waiting = []
                if group.isEmpty { state.committing = false }
                return group
            }
            if group.isEmpty { return }
            do {
                try queue.writing { db in
                    for job in group { try job.run(db) }
                }
                for job in group { job.finish(nil) }
            } catch {
                for job in group { job.finish(error) }
            }
        }
    }
}

/// A write's result, set on the database's queue before the caller reads it
/// (after the commit, through the continuation).
private final class Outcome<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}
