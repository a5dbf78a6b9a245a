import Foundation
import Logging
import NavetteCore
import NavettePostgres
import NavetteStore
import NavetteTesting
import Testing

/// Which records a push leaves on its node: those whose every change the
/// server holds came from that node (and the reads a push and a pull make
/// together). Checked on both server stores, with
/// origins on both sides of the node asked about (the stores compare the
/// least and the greatest origin of a record).
struct CreatedOnlyByTests {
    static let low = NodeID(rawValue: 0x10)
    static let middle = NodeID(rawValue: 0x20)
    static let high = NodeID(rawValue: 0x30)

    /// Three laptops write records, and the server gets their changes.
    static func contract(_ server: any ServerRecords) async throws {
        let dir = try TemporaryDirectory(prefix: "navette-created")
        defer { dir.remove() }
        var laptops: [NodeID: RecordStore] = [:]
        for node in [low, middle, high] {
            laptops[node] = try RecordStore.create(
                directory: dir.appending("\(node)"), identity: NodeIdentity(node: node, name: "n", agency: "069-lyon-3"))
        }
        func create(on node: NodeID, _ name: String) throws -> RecordRef {
            let id = try laptops[node]!.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("identity.lastName", .string(name))])
            return RecordRef("seeker", id)
        }
        let byLow = try create(on: low, "A")
        let byLowTwice = try create(on: low, "B")
        _ = try laptops[low]!.edit("seeker", byLowTwice.id, [.set("contact.phone", "0611")])
        let byHigh = try create(on: high, "C")
        let byLowThenHigh = try create(on: low, "D")
        let byLowThenMiddle = try create(on: low, "E")
        // Other laptops' edits of low's records, through the server.
        var changes: [Change] = []
        for node in [low, middle, high] {
            changes += try laptops[node]!.ownChanges(after: 0, limit: 1_000).map(\.change)
        }
        _ = try await server.apply(changes)
        for (node, ref) in [(high, byLowThenHigh), (middle, byLowThenMiddle)] {
            _ = try laptops[node]!.apply(try laptops[low]!.ownChanges(after: 0, limit: 1_000).map(\.change))
            let edit = try laptops[node]!.edit("seeker", ref.id, [.set("contact.email", "x@example.org")])
            _ = try await server.apply(edit)
        }
        let unknown = RecordRef("seeker", "no-such-record")
        let all: Set = [byLow, byLowTwice, byHigh, byLowThenHigh, byLowThenMiddle, unknown]

        #expect(Set(try await server.createdOnlyBy(low, among: all)) == [byLow, byLowTwice])
        #expect(Set(try await server.createdOnlyBy(high, among: all)) == [byHigh])
        // Middle's origins lie between low's and high's: a record low wrote
        // and middle edited has both, and is middle's no more than low's.
        #expect(try await server.createdOnlyBy(middle, among: all).isEmpty)
        #expect(try await server.createdOnlyBy(low, among: [unknown]).isEmpty)
        #expect(try await server.createdOnlyBy(low, among: []).isEmpty)

        // Read together after a push, with the log's last sequence; and
        // what a pull checks, together.
        let after = try await server.afterPush(by: low, among: all)
        #expect(Set(after.created) == [byLow, byLowTwice])
        #expect(after.lastSequence == (try await server.lastSequence()))
        #expect(after.lastSequence >= Int64(changes.count))
        let bounds = try await server.pullBounds()
        #expect(bounds.horizon == (try await server.logHorizon()))
        #expect(bounds.viewGeneration == (try await server.viewGeneration()))
        #expect(bounds.viewGeneration > 0, "records were created with agencies")
    }

    @Test func onSQLite() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-created-server")
        defer { dir.remove() }
        let server = try RecordStore.create(
            directory: dir.appending("server"), identity: NodeIdentity(node: NodeID(rawValue: 0x5E), name: "server", agency: "*"))
        try await Self.contract(server)
    }

    @Test(.enabled(if: TestDatabase.url != nil, TestDatabase.skipNote))
    func onPostgreSQL() async throws {
        let logger = Logger(label: "postgres-test") { _ in SwiftLogNoOpLogHandler() }
        let prefix = "t\(UInt32.random(in: 0...UInt32.max))"
        try await PostgresStorage.with(url: TestDatabase.url!, prefix: prefix, logger: logger) { storage in
            do {
                try await Self.contract(storage.records)
                try await storage.dropTables()
            } catch {
                try? await storage.dropTables()
                throw error
            }
        }
    }
}
