import Foundation
import Logging
import NavetteCore
import NavettePostgres
import NavetteTesting
import PostgresNIO
import Synchronization
import Testing

/// The PostgreSQL server the tests use: `NAVETTE_POSTGRES_URL`, which
/// `.ci/run` sets after starting one. Without it these tests are skipped,
/// and say so.
enum TestDatabase {
    static let url: PostgresURL? = ProcessEnvironment.value("NAVETTE_POSTGRES_URL").flatMap { try? PostgresURL($0) }
    static let skipNote: Comment =
        "PostgreSQL tests skipped: set NAVETTE_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres to run them (.ci/run starts a server and sets it)"

    /// Runs `body` with `count` clients (as many server processes would
    /// have), each with its own pool, on tables of a fresh prefix.
    static func withLogs<T: Sendable>(
        count: Int, _ body: @Sendable ([PostgresChangeLog]) async throws -> T
    ) async throws -> T {
        let logger = Logger(label: "postgres-test") { _ in SwiftLogNoOpLogHandler() }
        let prefix = "t\(UInt32.random(in: 0...UInt32.max))"
        let clients = (0..<count).map { _ in PostgresClient(configuration: url!.configuration, backgroundLogger: logger) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for c in clients { group.addTask { await c.run() } }
            defer { group.cancelAll() }
            let logs = clients.map { PostgresChangeLog(client: $0, logger: logger, prefix: prefix) }
            try await logs[0].migrate()
            let result = try await body(logs)
            for table in ["change", "log_head"] {
                try await clients[0].query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(prefix)_\(table)"))
            }
            return result
        }
    }
}

/// A change of node `node`, number `n`.
func change(_ node: UInt64, _ n: UInt64) -> Change {
    Change(
        id: ChangeID(origin: NodeID(rawValue: node), counter: n), time: Timestamp(wallMillis: 1_767_600_000_000 + n, counter: 0),
        collection: "seeker", record: "r\(node)", field: "contact.phone", operation: .set, value: .string("p\(n)"))
}

@Suite(.serialized, .enabled(if: TestDatabase.url != nil, TestDatabase.skipNote))
struct PostgresChangeLogTests {
    @Test func appendsAreIdempotentAndTheLastSequenceNeverGoesBack() async throws {
        try await TestDatabase.withLogs(count: 1) { logs in
            let log = logs[0]
            #expect(try await log.append((1...5).map { change(1, $0) }) == 5)
            #expect(try await log.append((3...7).map { change(1, $0) }) == 2, "changes already held are not appended again")
            let all = try await log.changes(after: 0, limit: 100)
            #expect(all.map(\.sequence) == Array(1...7))
            #expect(all.map(\.change.id.counter) == Array(1...7))
            #expect(try await log.changes(after: 5, limit: 1).map(\.sequence) == [6])
            #expect(try await log.lastSequence() == 7)
        }
    }

    /// The hazard, made to happen on purpose: with a plain sequence, a change
    /// that commits after a later-numbered one is skipped by a reader. The
    /// log's appends cannot interleave that way.
    @Test func aChangeCommittedLateIsNeverSkippedByAReader() async throws {
        try await TestDatabase.withLogs(count: 3) { logs in
            // First, the hazard with a plain sequence and no lock, step by step.
            let client = logs[0].client
            let naive = "\(logs[0].prefix)_naive"
            try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(naive) (seq BIGSERIAL PRIMARY KEY, id TEXT)"))
            let logger = Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }
            let held = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            async let slow: Void = logs[1].client.withTransaction(logger: logger) { c in
                try await c.query(PostgresQuery(unsafeSQL: "INSERT INTO \(naive) (id) VALUES ('first')"), logger: logger)
                held.continuation.yield()
                for await _ in release.stream { break }
            }
            for await _ in held.stream { break }
            try await logs[2].client.query(PostgresQuery(unsafeSQL: "INSERT INTO \(naive) (id) VALUES ('second')"))
            func read(after: Int64) async throws -> [Int64] {
                var out: [Int64] = []
                for try await s in try await client.query(PostgresQuery(unsafeSQL: "SELECT seq FROM \(naive) WHERE seq > \(after) ORDER BY seq")).decode(Int64.self) {
                    out.append(s)
                }
                return out
            }
            let seen = try await read(after: 0)
            release.continuation.yield()
            try await slow
            let cursor = seen.max() ?? 0
            #expect(seen == [2], "the later change is visible before the earlier one")
            #expect(try await read(after: cursor).isEmpty, "a reader past 2 never sees 1: the hazard")
            try await client.query(PostgresQuery(unsafeSQL: "DROP TABLE \(naive)"))

            // Now the log: the second append waits for the first to commit.
            let entered = AsyncStream<Void>.makeStream()
            let go = AsyncStream<Void>.makeStream()
            async let first: Int = logs[1].append([change(1, 1)]) {
                entered.continuation.yield()
                for await _ in go.stream { break }
            }
            for await _ in entered.stream { break }
            async let second: Int = logs[2].append([change(2, 1)])
            try await Task.sleep(for: .milliseconds(200))
            let during = try await logs[0].changes(after: 0, limit: 10)
            #expect(during.isEmpty, "nothing is visible while the first append is open")
            go.continuation.yield()
            _ = try await (first, second)
            let after = try await logs[0].changes(after: 0, limit: 10)
            #expect(after.map(\.change.id.description) == [change(1, 1).id.description, change(2, 1).id.description])
        }
    }

    /// Many pushers on several clients (server processes) and many pullers
    /// at once: every pulled stream is complete, in order and duplicate-free.
    @Test func concurrentPushersAndPullersSeeEveryChangeOnceAndInOrder() async throws {
        let seed = testSeed(0x9657_0001)
        let pushers = 8, batches = ProcessEnvironment.value("NAVETTE_FULL") == "1" ? 60 : 15
        print("postgres log: \(pushers) pushers × \(batches) batches, seed \(seed)")
        try await TestDatabase.withLogs(count: 4) { logs in
            let shared = Pulls(count: 4)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in 0..<4 {
                    group.addTask {
                        var cursor: Int64 = 0
                        while true {
                            let finished = shared.done.withLock { $0 }
                            let page = try await logs[p % logs.count].changes(after: cursor, limit: 7)
                            shared.streams.withLock { $0[p] += page.map(\.change.id.description) }
                            if let last = page.last { cursor = last.sequence }
                            if page.isEmpty, finished { return }
                        }
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { pushing in
                    for p in 0..<pushers {
                        pushing.addTask {
                            var rng = SplitMix64(seed: seed &+ UInt64(p))
                            var n: UInt64 = 0
                            for _ in 0..<batches {
                                let size = rng.int(in: 1...5)
                                let batch = (0..<size).map { _ in
                                    n += 1
                                    return change(UInt64(p + 1), n)
                                }
                                let pause = rng.int(in: 0...8)
                                try await logs[p % logs.count].append(batch) {
                                    try await Task.sleep(for: .milliseconds(pause))
                                }
                            }
                        }
                    }
                    try await pushing.waitForAll()
                }
                shared.done.withLock { $0 = true }
                try await group.waitForAll()
            }
            let expected = try await logs[0].changes(after: 0, limit: 100_000).map(\.change.id.description)
            #expect(Set(expected).count == expected.count)
            for (p, stream) in shared.streams.withLock({ $0 }).enumerated() {
                #expect(stream == expected, "puller \(p) saw \(stream.count) of \(expected.count), or out of order; NAVETTE_SEED=\(seed)")
            }
        }
    }
}

/// What the pullers share.
final class Pulls: Sendable {
    let done = Mutex(false)
    let streams: Mutex<[[String]]>
    init(count: Int) { streams = Mutex(Array(repeating: [], count: count)) }
}
