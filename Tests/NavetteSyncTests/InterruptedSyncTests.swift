import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Synchronization
import Testing

/// Connections cut in the middle of pushes and pulls by the TCP proxy: the
/// next attempt goes on from the last acknowledged batch or page, never
/// from zero, and the stores converge.
@Suite(.serialized)
struct InterruptedSyncTests {
    static func seekers(_ store: RecordStore, count: Int) throws {
        for i in 0..<count {
            _ = try store.createRecord("seeker", [
                .set("identity.lastName", .string("Nom\(i)")), .set("agency", "069-lyon-3"), .set("referent", "c1"),
                .set("notes", .string(String(repeating: "suivi \(i) ", count: 20))),
            ] + (0..<15).map { k in .put("skills", key: "ROME:347:\(100_000 + k)", ["level": 2, "source": "SELF"]) })
        }
    }

    @Test(arguments: [TCPProxy.Direction.toClient, .toServer])
    func cutConnectionsResumeWithoutStartingOver(_ direction: TCPProxy.Direction) async throws {
        try await withServer { s in
            let (proxy, url) = try await s.behindProxy()
            defer { Task { try? await proxy.stop() } }
            var a = try Laptop(1, clock: s.clock, logs: s.logs)
            var b = try Laptop(2, clock: s.clock, logs: s.logs)
            defer { a.dir.remove(); b.dir.remove() }
            for laptop in [a, b] { try await laptop.engine.enrol(server: url, code: try s.code()) }
            for var e in [a.engine, b.engine] {
                e.pushBatchSize = 100
                e.pullPageSize = 100
                e.sleep = { _ in }
                if e.store === a.store { a.engine = e } else { b.engine = e }
            }
            try Self.seekers(a.store, count: 60)
            let total = try a.store.status().changes
            #expect(total == 60 * 19)

            // Break the first connections a few kilobytes in.
            proxy.cutAfter(bytes: 6_000, direction: direction, connections: 2)
            let pushed = try await a.engine.sync()
            #expect(pushed.pushed >= total)
            #expect(pushed.retries >= 1, "the cut must have been hit")
            #expect(proxy.cutConnections >= 1)
            #expect(s.server.changesReceived <= total + 100, "at most the interrupted batch is sent again, never from zero")

            // The first pull brings the 60 files as snapshots in one large answer;
            // pull requests are small, so cut the request side sooner.
            proxy.cutAfter(bytes: direction == .toServer ? 300 : 6_000, direction: direction, connections: 2)
            let pulled = try await b.engine.sync()
            #expect(pulled.retries >= 1)
            #expect(pulled.snapshots == 60, "the files arrive once the page gets through")
            let exports = [try a.store.exportCanonical(), try b.store.exportCanonical(), try s.server.store.exportCanonical()]
            #expect(Set(exports).count == 1)
        }
    }

    @Test func aSyncThatKeepsFailingGivesUpWithAClearError() async throws {
        try await withServer { s in
            let (proxy, url) = try await s.behindProxy()
            defer { Task { try? await proxy.stop() } }
            var a = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { a.dir.remove() }
            try await a.engine.enrol(server: url, code: try s.code())
            let waits = Mutex<[Duration]>([])
            a.engine.sleep = { d in waits.withLock { $0.append(d) } }
            a.engine.maximumAttempts = 3
            _ = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3")])
            proxy.cutAfter(bytes: 10, direction: .toServer)
            await #expect {
                _ = try await a.engine.sync()
            } throws: { ($0 as? SyncError)?.code == .transport && ($0 as? SyncError)?.isConnectionFailure == true }
            #expect(waits.withLock { $0 } == [.zero, a.engine.baseDelay], "a broken connection is retried at once, then after the backoff")
            #expect(try a.store.status().pending == 1, "nothing is lost: the change waits for the next sync")
            proxy.heal()
            #expect(try await a.engine.sync().pushed == 1)
        }
    }

    /// A push whose answer is lost is sent again under the same batch id
    /// (SYNC-002): the server answers it from its record, and applies nothing twice.
    @Test func aPushWhoseAnswerWasLostIsSentAgainUnderTheSameBatchID() async throws {
        try await withServer { s in
            let transport = LosingTransport(HTTPTransport())
            var a = try Laptop(1, clock: s.clock, logs: s.logs, transport: transport)
            defer { a.dir.remove() }
            a.engine.sleep = { _ in }
            try await a.engine.enrol(server: s.url, code: try s.code())
            _ = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("identity.lastName", "Nom")])
            transport.loseNextPushAnswer()
            #expect(try await a.engine.sync().pushed == 2)
            let batches = transport.pushBatches
            #expect(batches.count == 2, "the push was not sent again")
            #expect(Set(batches).count == 1, "the resent push has another batch id: \(batches)")
            #expect(s.server.changesReceived == 4, "both attempts reached the server")
        }
    }
}

/// Passes requests on, records the batch id of every push, and can drop
/// the answer to the next one (as a cut after the server answered would).
final class LosingTransport: SyncTransport, Sendable {
    let inner: any SyncTransport
    let state = Mutex<(lose: Bool, batches: [String])>((false, []))
    init(_ inner: any SyncTransport) { self.inner = inner }

    func loseNextPushAnswer() { state.withLock { $0.lose = true } }
    var pushBatches: [String] { state.withLock { $0.batches } }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let response = try await inner.send(request)
        guard request.url.hasSuffix("/v1/sync/push"), let body = request.body else { return response }
        let plain = try BodyEncoding.decode(
            body, encodings: request.headers.filter { $0.name == "content-encoding" }.map(\.value), maximumBytes: 1 << 24)
        let batch = try PushRequest(body: plain).batch
        let lose = state.withLock { s -> Bool in
            s.batches.append(batch)
            defer { s.lose = false }
            return s.lose
        }
        if lose { throw SyncError(.transport, "the answer was lost") }
        return response
    }
}
