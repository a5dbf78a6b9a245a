import Foundation
import Logging
import NavetteCore
import NavettePostgres
import NavetteStore
import NavetteTesting
import PostgresNIO
import Testing

/// One contract, two backends: what every server process sharing a registry
/// relies on, checked on SQLite (`ServerRegistry`) and on PostgreSQL
/// (`PostgresRegistry`), each seen from two "processes" at once.
struct SharedRegistryContractTests {
    static let now: UInt64 = 1_767_600_000_000

    /// The contract, given two handles on one registry.
    static func contract(_ a: any SharedRegistry, _ b: any SharedRegistry) async throws {
        // One signing key for every process.
        let key = try await a.secret("signing-key", bytes: 32)
        #expect(key.count == 32)
        #expect(try await b.secret("signing-key", bytes: 32) == key)

        // A code is used once, whichever process redeems it.
        let code = try await a.issueCode(agency: "069-lyon-3", counsellor: "c1", name: nil, expiresAt: now + 60_000, actor: "admin", now: now)
        let node = NodeID(rawValue: 0xA1)
        let record = try await b.redeem(code: code, node: node, publicKey: "pk-a1", name: "laptop", now: now + 1)
        #expect(record.agency == "069-lyon-3" && record.counsellor == "c1" && record.status == .active && record.name == "laptop")
        await #expect(throws: ServerRegistry.EnrolmentRefusal.usedCode) {
            try await a.redeem(code: code, node: NodeID(rawValue: 0xA2), publicKey: "pk", name: "x", now: now + 2)
        }
        await #expect(throws: ServerRegistry.EnrolmentRefusal.unknownCode) {
            try await a.redeem(code: "0000-0000-0000", node: NodeID(rawValue: 0xA3), publicKey: "pk", name: "x", now: now + 2)
        }
        let late = try await a.issueCode(agency: "069-lyon-3", counsellor: nil, name: nil, expiresAt: now + 10, actor: "admin", now: now)
        await #expect(throws: ServerRegistry.EnrolmentRefusal.expiredCode) {
            try await b.redeem(code: late, node: NodeID(rawValue: 0xA4), publicKey: "pk", name: "x", now: now + 20)
        }
        let again = try await a.issueCode(agency: "069-lyon-3", counsellor: nil, name: nil, expiresAt: now + 60_000, actor: "admin", now: now)
        await #expect(throws: ServerRegistry.EnrolmentRefusal.nodeAlreadyEnrolled) {
            try await b.redeem(code: again, node: node, publicKey: "pk-other", name: "x", now: now + 3)
        }
        // Typed as people type it: lower case, without dashes, O for 0.
        let typed = try await a.issueCode(agency: "075-paris-1", counsellor: "c9", name: "desk", expiresAt: now + 60_000, actor: "admin", now: now)
        let sloppy = typed.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "0", with: "o")
        #expect(try await b.redeem(code: sloppy, node: NodeID(rawValue: 0xA5), publicKey: "pk", name: "x", now: now + 4).name == "desk")

        // Two processes redeeming one code at the same moment: exactly one enrols.
        let contested = try await a.issueCode(agency: "069-lyon-3", counsellor: "c1", name: nil, expiresAt: now + 60_000, actor: "admin", now: now)
        func attempt(_ r: any SharedRegistry, _ n: UInt64) async -> Bool {
            (try? await r.redeem(code: contested, node: NodeID(rawValue: n), publicKey: "pk", name: "x", now: now + 5)) != nil
        }
        async let first = attempt(a, 0xB1)
        async let second = attempt(b, 0xB2)
        let outcomes = await [first, second]
        #expect(outcomes.filter { $0 }.count == 1, "one code enrolled two nodes, or none")

        // A revocation made in one process is seen by the other at once.
        #expect(try await b.node(node)?.publicKey == "pk-a1")
        #expect(try await a.revoke(node, actor: "admin", now: now + 10))
        #expect(try await b.node(node)?.status == .revoked)
        #expect(try await b.revoke(NodeID(rawValue: 0xFFFF), actor: "admin", now: now + 10) == false)
        #expect(try await a.node(NodeID(rawValue: 0xFFFF)) == nil)

        // What checking a request reads, together: the node, and whether the
        // nonce is a live challenge issued by either process.
        try await a.issueChallenge("ch-1", expiresAt: now + 120_000, now: now)
        let checked = try await b.node(node, challenge: "ch-1", now: now + 1)
        #expect(checked.node?.status == .revoked && checked.isChallenge)
        #expect(try await b.node(node, challenge: "ch-unknown", now: now + 1).isChallenge == false)
        #expect(try await a.node(node, challenge: "ch-1", now: now + 200_000).isChallenge == false, "an expired challenge")
        let stranger = try await a.node(NodeID(rawValue: 0xFFFF), challenge: "ch-1", now: now + 1)
        #expect(stranger.node == nil && stranger.isChallenge)

        // A nonce is accepted once across processes, and forgotten once expired.
        #expect(try await a.recordNonce(keyID: "k", nonce: "n1", expiresAt: now + 1_000, now: now))
        #expect(try await b.recordNonce(keyID: "k", nonce: "n1", expiresAt: now + 1_000, now: now) == false)
        #expect(try await b.recordNonce(keyID: "other", nonce: "n1", expiresAt: now + 1_000, now: now), "nonces are per key")
        async let r1 = a.recordNonce(keyID: "k", nonce: "race", expiresAt: now + 1_000, now: now)
        async let r2 = b.recordNonce(keyID: "k", nonce: "race", expiresAt: now + 1_000, now: now)
        let raced = try await [r1, r2]
        #expect(raced.filter { $0 }.count == 1, "two processes both accepted one nonce")
        #expect(try await a.nonceCount() == 3)
        #expect(try await b.recordNonce(keyID: "k", nonce: "later", expiresAt: now + 100_000, now: now + 5_000))
        #expect(try await a.nonceCount() == 1, "expired nonces stay in the cache")

        // Admitting a request: its nonce once, with the node's last-seen time
        // and clock skew; a replay writes nothing; an expired copy of the
        // pair is no replay (the time window refuses such a request first).
        let seenBefore = try await a.node(node)?.lastSeen
        #expect(try await a.admit(keyID: "k2", nonce: "adm", expiresAt: now + 1_000, node: node, clockSkew: -7, now: now + 100))
        #expect(try await a.node(node)?.lastSeen == now + 100)
        #expect(try await b.node(node)?.clockSkew == -7)
        #expect(try await b.admit(keyID: "k2", nonce: "adm", expiresAt: now + 1_000, node: node, clockSkew: 3, now: now + 200) == false)
        #expect(try await a.node(node)?.lastSeen == now + 100, "a replay moved the last-seen time")
        #expect(try await b.admit(keyID: "k2", nonce: "adm", expiresAt: now + 9_000, node: node, clockSkew: 0, now: now + 2_000))
        #expect(try await a.node(node)?.lastSeen == now + 2_000)
        #expect(seenBefore != now + 2_000)

        // What a push leaves behind, in one write: its answer, the refused
        // count, the records the node now holds, the log's high-water mark
        // (only ever raised).
        let pushed = [RecordRef("seeker", "s-new-1"), RecordRef("registration", "r-new-1")]
        try await a.recordPush(node: node, batch: "b1", response: Array("ok".utf8), refused: 2, created: pushed, logSequence: 40, now: now + 3_000)
        #expect(try await b.batchResponse(node: node, batch: "b1") == Array("ok".utf8))
        #expect(try await b.batchResponse(node: node, batch: "b2") == nil)
        #expect(try await b.node(node)?.refused == 2)
        #expect(try await b.confirmedView(node) == [pushed[0]: false, pushed[1]: false])
        #expect(try await b.logHighWater() == 40)
        try await b.recordPush(node: node, batch: "b2", response: [], refused: 0, created: [], logSequence: 12, now: now + 3_001)
        #expect(try await a.logHighWater() == 40, "the high-water mark went back")
        #expect(try await a.node(node)?.refused == 2)
        #expect(try await a.confirmedView(node).count == 2)

        // The audit log holds every admin action, in order, from both processes.
        try await b.audit(actor: "admin", action: "transfer", target: "seeker x", at: now + 20)
        let actions = try await a.auditLog().map(\.action)
        #expect(actions.first == "issue-enrolment-code")
        #expect(actions.contains("enrol") && actions.contains("revoke"))
        #expect(actions.last == "transfer")
    }

    @Test func theSQLiteRegistryKeepsTheContract() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-registry")
        defer { dir.remove() }
        try await Self.contract(try ServerRegistry.open(directory: dir.path), try ServerRegistry.open(directory: dir.path))
    }

    @Test(.enabled(if: TestDatabase.url != nil, TestDatabase.skipNote))
    func thePostgreSQLRegistryKeepsTheContract() async throws {
        let logger = Logger(label: "postgres-test") { _ in SwiftLogNoOpLogHandler() }
        let prefix = "t\(UInt32.random(in: 0...UInt32.max))"
        let clients = (0..<2).map { _ in PostgresClient(configuration: TestDatabase.url!.configuration, backgroundLogger: logger) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in clients { group.addTask { await c.run() } }
            defer { group.cancelAll() }
            let registries = clients.map { PostgresRegistry(client: $0, logger: logger, prefix: prefix) }
            try await registries[0].migrate()
            try await registries[1].migrate()
            try await Self.contract(registries[0], registries[1])
            // Every table the registry made, whatever their number.
            var tables: [String] = []
            for try await name in try await clients[0].query(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, \(prefix + "_"))"
            ).decode(String.self) {
                tables.append(name)
            }
            #expect(tables.contains("\(prefix)_challenge"))
            for table in tables { try await clients[0].query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \"\(table)\"")) }
        }
    }
}
