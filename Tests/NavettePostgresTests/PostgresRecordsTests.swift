import Foundation
import Logging
import NavetteCore
import NavettePostgres
import NavetteStore
import NavetteTesting
import PostgresNIO
import Synchronization
import Testing

/// The server's records on PostgreSQL written by several processes at once:
/// each record's read-merge-write and the log's numbering happen under one
/// lock, so concurrent pushes to the same records merge as they would in
/// any order, and pullers see every change once and in order.
@Suite(.serialized, .enabled(if: TestDatabase.url != nil, TestDatabase.skipNote))
struct PostgresRecordsTests {
    /// `count` record stores on one database, each with its own pool (as
    /// many server processes would have), on tables of a fresh prefix.
    static func withRecords<T: Sendable>(count: Int, _ body: @Sendable ([PostgresRecords]) async throws -> T) async throws -> T {
        let logger = Logger(label: "postgres-test") { _ in SwiftLogNoOpLogHandler() }
        let prefix = "t\(UInt32.random(in: 0...UInt32.max))"
        return try await PostgresStorage.with(url: TestDatabase.url!, prefix: prefix, logger: logger) { first in
            let clients = (1..<count).map { _ in PostgresClient(configuration: TestDatabase.url!.configuration, backgroundLogger: logger) }
            return try await withThrowingTaskGroup(of: Void.self) { group in
                for c in clients { group.addTask { await c.run() } }
                defer { group.cancelAll() }
                let all = [first.records] + clients.map { PostgresRecords(client: $0, logger: logger, prefix: prefix, node: first.records.node) }
                do {
                    let result = try await body(all)
                    try await first.dropTables()
                    return result
                } catch {
                    try? await first.dropTables()
                    throw error
                }
            }
        }
    }

    @Test func concurrentPushesToTheSameRecordsMergeAsInAnyOrderAndPullsMissNothing() async throws {
        let seed = testSeed(0x9657_0002)
        let pushers = 6, batches = ProcessEnvironment.value("NAVETTE_FULL") == "1" ? 50 : 12
        print("postgres records: \(pushers) pushers × \(batches) batches on 3 records, seed \(seed)")
        let records = ["r1", "r2", "r3"]
        let fields = ["contact.phone", "contact.email", "identity.lastName"]
        // Every pusher's batches, made up front: the expected states need them all.
        var plan: [[[Change]]] = []
        for p in 0..<pushers {
            var rng = SplitMix64(seed: seed &+ UInt64(p))
            var n: UInt64 = 0
            var made: [Change] = []
            var batchesOf: [[Change]] = []
            for _ in 0..<batches {
                var batch: [Change] = (0..<rng.int(in: 1...6)).map { _ in
                    n += 1
                    return Change(
                        id: ChangeID(origin: NodeID(rawValue: UInt64(0xB00 + p)), counter: n),
                        time: Timestamp(wallMillis: 1_767_600_000_000 + UInt64(rng.int(in: 0...50)), counter: 0),
                        collection: "seeker", record: rng.pick(records), field: rng.pick(fields), operation: .set,
                        value: .string("v\(p)-\(n)"))
                }
                // A batch sent again after a lost answer, in part.
                if !made.isEmpty, rng.int(in: 0...3) == 0 { batch += made.suffix(2) }
                made += batch
                batchesOf.append(batch)
            }
            plan.append(batchesOf)
        }
        let view = Dictionary(uniqueKeysWithValues: records.map { (RecordRef("seeker", $0), false) })
        let plans = plan
        try await Self.withRecords(count: 3) { stores in
            let shared = Pulls(count: 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in 0..<2 {
                    group.addTask {
                        var cursor: Int64 = 0
                        while true {
                            let finished = shared.done.withLock { $0 }
                            let page = try await stores[p].changes(after: cursor, limit: 5, view: view, skip: [], excluding: nil)
                            shared.streams.withLock { $0[p] += page.changes.map(\.change.id.description) }
                            cursor = page.lastSequence
                            if !page.more, page.changes.isEmpty, finished { return }
                        }
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { pushing in
                    for p in 0..<pushers {
                        pushing.addTask {
                            for batch in plans[p] { _ = try await stores[p % stores.count].apply(batch) }
                        }
                    }
                    try await pushing.waitForAll()
                }
                shared.done.withLock { $0 = true }
                try await group.waitForAll()
            }
            let logged = try await stores[0].loggedChanges(after: 0, limit: 100_000)
            let ids = logged.map(\.change.id.description)
            let distinct = Set(plans.joined().joined().map(\.id))
            #expect(ids.count == distinct.count && Set(ids).count == ids.count, "every change logged once; NAVETTE_SEED=\(seed)")
            #expect(logged.map(\.sequence) == Array(1...Int64(logged.count)), "sequences have no gap")
            for (p, stream) in shared.streams.withLock({ $0 }).enumerated() {
                #expect(stream == ids, "puller \(p) saw \(stream.count) of \(ids.count), or out of order; NAVETTE_SEED=\(seed)")
            }
            for r in records {
                var expected = RecordState()
                for c in plans.joined().joined() where c.record == r { expected.apply(c) }
                #expect(try await stores[1].state(RecordRef("seeker", r)) == expected, "\(r) differs from its changes merged; NAVETTE_SEED=\(seed)")
            }
        }
    }

    @Test func theViewGenerationMovesOnWhenWhatViewsReadChangesAndOnlyThen() async throws {
        try await Self.withRecords(count: 1) { stores in
            let records = stores[0]
            let ref = RecordRef("seeker", "s1")
            var last = try await records.viewGeneration()
            func step(_ edits: [Edit], _ what: Comment, moves expected: Bool) async throws {
                try await records.perform([(ref, edits)])
                let now = try await records.viewGeneration()
                #expect((now != last) == expected, what)
                last = now
            }
            try await step([.set("agency", "069-lyon-3"), .set("identity.lastName", "Moreau")], "a new record", moves: true)
            try await step([.set("contact.phone", "0611")], "an edit of a field no view reads", moves: false)
            try await step([.set("referent", "c1")], "a new referent", moves: true)
            try await step([.add("followers", element: "c2")], "a new follower", moves: true)
            try await step([.set("agency", "075-paris-1")], "a transfer", moves: true)
            try await step([.set("identity.firstName", "Inès")], "another plain edit", moves: false)
            try await step([.eraseRecord], "an erasure", moves: true)
        }
    }
}
