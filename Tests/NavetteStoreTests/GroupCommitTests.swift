import Foundation
import GRDB
import NavetteCore
import NavetteTesting
import Synchronization
import Testing

@testable import NavetteStore

/// Writes that arrive together commit together, and each still behaves as
/// a transaction of its own.
struct GroupCommitTests {
    /// Counts the transactions committed on a connection.
    final class Commits: TransactionObserver, Sendable {
        let count = Mutex(0)
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { count.withLock { $0 += 1 } }
        func databaseDidRollback(_ db: Database) {}
    }

    /// Runs `first` as the group's leader, held inside its transaction until
    /// `others` writes wait behind it, then lets it go: the others then make
    /// one group. Returns the results in the order of `writes`.
    func grouped(
        _ commit: GroupCommit, first: @escaping @Sendable (Database) throws -> String,
        others: [@Sendable (Database) throws -> String]
    ) async -> [Result<String, any Error>] {
        let release = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        let leader = Task {
            try await commit.write { db in
                entered.signal()
                release.wait()
                return try first(db)
            }
        }
        await withCheckedContinuation { c in
            DispatchQueue.global().async {
                entered.wait()
                c.resume()
            }
        }
        let tasks = others.map { body in Task { try await commit.write(body) } }
        while commit.waitingCount < others.count { try? await Task.sleep(for: .milliseconds(1)) }
        release.signal()
        var results = [await leader.result]
        for task in tasks { results.append(await task.result) }
        return results
    }

    struct Planted: Error {}

    @Test func writesThatWaitTogetherCommitOnceAndEachKeepsItsOutcome() async throws {
        let (queue, dir) = try scratchDatabase("CREATE TABLE t (k TEXT PRIMARY KEY)")
        defer { dir.remove() }
        let commits = Commits()
        queue.inDatabase { db in db.add(transactionObserver: commits, extent: .databaseLifetime) }
        let commit = GroupCommit(queue: queue)

        func insert(_ key: String) -> @Sendable (Database) throws -> String {
            { db in
                try db.execute(sql: "INSERT INTO t (k) VALUES (?)", arguments: [key])
                return key
            }
        }
        var others = (1...18).map { insert("k\($0)") }
        // One write fails after writing: it alone is undone.
        others.insert(
            { db in
                try db.execute(sql: "INSERT INTO t (k) VALUES ('failed')")
                throw Planted()
            }, at: 5)
        // One sees what an earlier write of its group wrote.
        others.append { db in
            try db.execute(sql: "INSERT INTO t (k) VALUES ('k1')")
            return "unreachable"
        }
        let results = await grouped(commit, first: insert("k0"), others: others)

        #expect(commits.count.withLock { $0 } == 2)
        #expect(try results[0].get() == "k0")
        #expect(throws: Planted.self) { try results[6].get() }
        // The duplicate of k1 fails on the key k1's write left in the group.
        #expect(throws: DatabaseError.self) { try results.last!.get() }
        let returned = results.compactMap { try? $0.get() }
        #expect(returned == ["k0"] + (1...18).map { "k\($0)" })
        let stored = try queue.reading { db in try String.fetchAll(db, sql: "SELECT k FROM t ORDER BY k") }
        #expect(stored == returned.sorted())
    }

    /// A replayed request, sent many times at once: exactly one admission
    /// succeeds, however the admissions are grouped.
    @Test func concurrentAdmissionsOfOneNonceAdmitOne() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let registry = try ServerRegistry.open(directory: dir.path)
        let node = NodeID(rawValue: 9)
        for round in 0..<20 {
            let admitted = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        (try? await registry.admit(
                            keyID: "k", nonce: "n\(round)", expiresAt: 2_000_000, node: node, clockSkew: 0,
                            now: 1_000_000)) ?? false
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == 1, "round \(round)")
        }
        #expect(try registry.nonceCount() == 20)
    }
}
