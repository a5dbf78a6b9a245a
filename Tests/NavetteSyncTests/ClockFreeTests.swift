import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Synchronization
import Testing

/// A laptop clock that cannot be trusted: each reading jumps two days on.
final class RunawayClock: Sendable {
    let value: Mutex<UInt64>
    init(_ start: UInt64) { value = Mutex(start) }
    var read: @Sendable () -> UInt64 {
        { [self] in self.value.withLock { v in v += 2 * 86_400_000; return v } }
    }
}

@Suite(.serialized)
struct ClockFreeTests {
    @Test(arguments: Backend.available) func aLaptopAYearAheadEnrolsThroughAChallengeAndSyncs(_ backend: Backend) async throws {
        let serverClock = ManualClock(millis: 1_767_600_000_000)
        try await withServer(backend: backend, clock: serverClock) { s in
            let laptopClock = ManualClock(millis: serverClock.millis + 365 * 86_400_000)
            let a = try Laptop(1, clock: laptopClock, logs: s.logs)
            defer { a.dir.remove() }
            try await a.engine.enrol(server: s.url, code: try s.code())
            let id = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3")])
            let report = try await a.engine.sync()
            #expect(report.pushed >= 1 && report.refused == 0)
            #expect(try await s.server.records.state(RecordRef("seeker", id)) != nil)
            #expect(abs(a.store.clockOffset + 365 * 86_400_000) < 5_000, "the offset was learned")
            let nodes = try await s.server.shared.nodes()
            #expect(nodes.first?.clockSkew.map { abs($0) < 5_000 } == true, "once corrected, the laptop signs with the server's time")
        }
    }

    @Test(arguments: Backend.available) func aClockThatWillNotSettleFallsBackToServerNonces(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let runaway = RunawayClock(s.clock.millis)
            let dir = try TemporaryDirectory(prefix: "navette-runaway")
            defer { dir.remove() }
            let store = try RecordStore.create(
                directory: dir.appending("node"), identity: NodeIdentity(node: NodeID(rawValue: 0xB1), name: "runaway", agency: "x"),
                configuration: .init(wallClock: runaway.read))
            let key = try NodeKey.create(directory: dir.appending("node"))
            let engine = SyncEngine(store: store, key: key, transport: HTTPTransport(), logger: s.logs.logger("runaway"))
            try await engine.enrol(server: s.url, code: try s.code())
            let report = try await engine.sync()
            #expect(report.roundTrips >= 3, "skew, skew, challenge, then the request signed with the challenge")
            // A challenge is single-use.
            let nonce = Base64URL.nonce(bytes: 24)
            try await s.server.shared.issueChallenge(nonce, expiresAt: s.clock.millis + 60_000, now: s.clock.millis)
            #expect(try await s.server.shared.consumeChallenge(nonce))
            #expect(try await !s.server.shared.consumeChallenge(nonce))
        }
    }

    @Test(arguments: Backend.available) func theChallengeAnswerIsSignedAndAdvertisesTheNonce(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let r = try await s.send(RequestParts(method: "POST", authority: s.authority, path: "/v1/auth/challenge"), body: nil)
            #expect(r.status == 200)
            let nonce = try JSONValue(parsing: r.body)["nonce"]!.stringValue!
            #expect(r.headers.first { $0.name == "accept-signature" }?.value.contains("nonce=\"\(nonce)\"") == true)
            #expect(try await s.server.shared.isChallenge(nonce, now: s.clock.millis))
            s.clock.advance(by: 121_000)
            #expect(try await !s.server.shared.isChallenge(nonce, now: s.clock.millis), "a challenge lives two minutes")
        }
    }
}
