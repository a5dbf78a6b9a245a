import Crypto
import Foundation
import Logging
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Testing

/// The server's memory of nodes, nonces and keys lives on disk: a restart
/// forgets nothing that protects the nodes.
@Suite(.serialized)
struct RestartTests {
    /// Runs a server on `directory` for the time of `body`.
    func withDiskServer<T: Sendable>(_ directory: String, clock: ManualClock, _ body: (SyncServer, String) async throws -> T) async throws -> T {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let server = try await SyncServer.open(
            directory: directory, configuration: ServerConfiguration(host: "127.0.0.1", port: 0, wallClock: clock.read), logger: logger)
        let (urls, continuation) = AsyncStream<String>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await HTTPServer.run(server: server, tls: nil, logger: logger) { continuation.yield($0) } }
            var it = urls.makeAsyncIterator()
            let url = await it.next()!
            defer { group.cancelAll() }
            return try await body(server, url)
        }
    }

    @Test func aRequestReplayedAfterARestartIsStillRefusedAndTheKeyIsTheSame() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-restart")
        defer { dir.remove() }
        let clock = ManualClock(millis: 1_767_600_000_000)
        let logs = CapturedLogs()
        let laptop = try Laptop(1, clock: clock, logs: logs)
        defer { laptop.dir.remove() }
        let (request, keyID, firstPort) = try await withDiskServer(dir.appending("server"), clock: clock) { server, url in
            let code = try server.registry.issueCode(agency: "069-lyon-3", counsellor: nil, expiresAt: clock.millis + 60_000, actor: "t", now: clock.millis)
            try await laptop.engine.enrol(server: url, code: code)
            var parts = RequestParts(method: "GET", authority: server.expectedAuthority, path: "/v1/sync/pull")
            try MessageSigner(key: laptop.key, keyID: laptop.store.identity.node.description)
                .sign(&parts, body: nil, created: Int64(clock.millis / 1000), nonce: Base64URL.nonce())
            let first = try await HTTPTransport().send(TransportRequest(url: url + "/v1/sync/pull", method: "GET", headers: parts.headers, body: nil))
            #expect(first.status == 200)
            return (parts, server.keyID, url.split(separator: ":").last!)
        }
        try await withDiskServer(dir.appending("server"), clock: clock) { server, url in
            #expect(server.keyID == keyID, "the signing key survives a restart")
            // The new process listens on another port: the replay targets the same signed authority.
            server.setAuthority("127.0.0.1:\(firstPort)")
            let replay = try await HTTPTransport().send(TransportRequest(url: url + "/v1/sync/pull", method: "GET", headers: request.headers, body: nil))
            #expect(replay.status == 401 && Problem(body: replay.body)?.type == .replay)
            #expect(try server.registry.node(laptop.store.identity.node)?.status == .active, "enrolments survive a restart")
        }
    }
}

extension RestartTests {
    @Test func theErasureLedgerErasesAgainWhatARestoredStoreBringsBack() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-ledger")
        defer { dir.remove() }
        let clock = ManualClock(millis: 1_767_600_000_000)
        let data = dir.appending("server")
        let storeFile = RecordStore.storePath(directory: data)
        let id = try await withDiskServer(data, clock: clock) { server, _ in
            let id = try server.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("identity.lastName", "Zqrestored")])
            return id
        }
        // A backup of the store taken before the erasure.
        try FileManager.default.copyItem(atPath: storeFile, toPath: dir.appending("backup.sqlite"))
        _ = try await withDiskServer(data, clock: clock) { server, _ in
            try await server.erase(seeker: id, actor: "admin")
        }
        // The store is restored from the backup; the registry (and its ledger) is not.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: storeFile + suffix) }
        try FileManager.default.copyItem(atPath: dir.appending("backup.sqlite"), toPath: storeFile)
        try await withDiskServer(data, clock: clock) { server, _ in
            #expect(try server.store.state("seeker", id)?.isErased == true, "the ledger erased it again at start")
            try server.store.truncateWAL()
        }
        #expect(try filesContaining("Zqrestored", under: data).isEmpty)
    }
}
