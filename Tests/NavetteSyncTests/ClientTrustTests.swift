import Crypto
import Foundation
import NavetteClient
import NavetteCore
import NavetteStore
import NavetteTesting
import NavetteWire
import Synchronization
import Testing

/// A transport between the node and the real server that tampers with
/// answers, as a man in the middle would (T8, T14).
final class TamperingTransport: SyncTransport {
    let tamper: Mutex<(@Sendable (inout TransportResponse) -> Void)?> = Mutex(nil)
    let recorded = Mutex<[TransportResponse]>([])
    let inner = HTTPTransport()

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        var r = try await inner.send(request)
        recorded.withLock { $0.append(r) }
        if let t = tamper.withLock({ $0 }) { t(&r) }
        return r
    }
}

@Suite(.serialized)
struct ClientTrustTests {
    func enrolled(_ s: TestServer, _ transport: TamperingTransport) async throws -> Laptop {
        var l = try Laptop(1, clock: s.clock, logs: s.logs, transport: transport)
        l.engine.sleep = { _ in }
        l.engine.maximumAttempts = 1
        try await l.engine.enrol(server: s.url, code: try s.code())
        return l
    }

    @Test("a tampered answer is discarded and nothing of it applied (T8)", arguments: ["status", "body", "unsigned", "otherKey"])
    func tamperedAnswers(_ how: String) async throws {
        try await withServer { s in
            let t = TamperingTransport()
            let a = try await enrolled(s, t)
            let b = try Laptop(2, clock: s.clock, logs: s.logs)
            defer { a.dir.remove(); b.dir.remove() }
            try await b.engine.enrol(server: s.url, code: try s.code())
            _ = try b.store.createRecord("seeker", [.set("agency", "069-lyon-3")])
            _ = try await b.engine.sync()
            let forger = Curve25519.Signing.PrivateKey()
            t.tamper.withLock {
                $0 = { r in
                    switch how {
                    case "status": r.status = 201
                    case "body": if !r.body.isEmpty { r.body[r.body.count - 1] ^= 1 }
                    case "unsigned": r.headers.removeAll { $0.name == "signature" || $0.name == "signature-input" }
                    default:
                        var parts = ResponseParts(status: r.status, headers: r.headers.filter { $0.name != "signature" && $0.name != "signature-input" && $0.name != "content-digest" })
                        let req = RequestParts(method: "GET", authority: "x", path: "/")
                        try? MessageSigner(key: forger, keyID: "server-forged").sign(&parts, body: r.body, answering: req, created: 1, nonce: "AAAAAAAAAAAAAAAAAAAAAA")
                        r.headers = parts.headers
                    }
                }
            }
            await #expect {
                _ = try await a.engine.sync()
            } throws: { ($0 as? SyncError)?.code == .untrustedResponse }
            #expect(try a.store.status().changes == 0, "nothing of an untrusted answer is applied")
        }
    }

    @Test func aSignedAnswerToAnotherRequestIsDiscarded() async throws {
        try await withServer { s in
            let t = TamperingTransport()
            let a = try await enrolled(s, t)
            defer { a.dir.remove() }
            _ = try await a.engine.sync()
            let earlier = t.recorded.withLock { $0.last! }
            t.tamper.withLock { $0 = { r in r = earlier } }
            let offset = a.store.clockOffset
            await #expect {
                _ = try await a.engine.sync()
            } throws: { ($0 as? SyncError)?.code == .untrustedResponse }
            #expect(a.store.clockOffset == offset, "a replayed answer never moves the clock (T14)")
        }
    }

    @Test func anUnsignedClockSkewAnswerNeverMovesTheClock() async throws {
        try await withServer { s in
            let t = TamperingTransport()
            let a = try await enrolled(s, t)
            defer { a.dir.remove() }
            let offset = a.store.clockOffset
            t.tamper.withLock {
                $0 = { r in
                    let forged = Problem(.clockSkew, "forged", extensions: ["serverTime": .int(4_000_000_000_000)])
                    r = TransportResponse(status: 401, headers: [HeaderField("content-type", Problem.mediaType)], body: forged.body)
                }
            }
            await #expect {
                _ = try await a.engine.sync()
            } throws: { ($0 as? SyncError)?.code == .untrustedResponse }
            #expect(a.store.clockOffset == offset)
        }
    }
}
