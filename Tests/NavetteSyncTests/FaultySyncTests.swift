import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Testing

/// Syncs through a proxy that cuts, resets, stalls, delays, duplicates and
/// reorders connections at random (seeded) points: every sync completes on
/// retry, nothing is stored twice, no node restarts from zero, and the stores
/// converge.
@Suite(.serialized)
struct FaultySyncTests {
    @Test func syncsThroughRandomNetworkFaultsConvergeAndApplyNothingTwice() async throws {
        let full = ProcessEnvironment.value("NAVETTE_FULL") == "1"
        let rounds = environmentInt("NAVETTE_FAULT_ROUNDS", default: full ? 150 : 12)
        let seed = testSeed(0xFA17_0001)
        print("faulty sync: \(rounds) rounds from seed \(seed) (NAVETTE_SEED replays it)")
        var rng = SplitMix64(seed: seed)
        try await withServer { s in
            let (proxy, url) = try await s.behindProxy()
            defer { Task { try? await proxy.stop() } }
            // A timeout short enough that a stalled exchange fails over soon, long
            // enough for a healthy one on a loaded CI machine. Each exchange on a
            // connection of its own, so that every exchange may meet a fault.
            let transport = SchemaCheckingTransport(ClosingTransport(HTTPTransport(timeout: .seconds(6))))
            var laptops: [Laptop] = []
            for n in 1...2 {
                // Enrolment has no retry of its own: if its answer is lost (a slow
                // machine), the node is enrolled but does not know it; a new laptop
                // with a new code tries again.
                for attempt in 0..<10 {
                    var l = try Laptop(UInt64(n * 100 + attempt), clock: s.clock, logs: s.logs, transport: transport)
                    l.engine.sleep = { _ in }
                    l.engine.pushBatchSize = 20
                    l.engine.pullPageSize = 20
                    do {
                        try await l.engine.enrol(server: url, code: try s.code())
                        laptops.append(l)
                        break
                    } catch let e as SyncError where e.code == .transport && attempt < 9 {
                        l.dir.remove()
                    }
                }
            }
            defer { laptops.forEach { $0.dir.remove() } }
            var records: [(collection: String, id: String)] = []
            for _ in 0..<6 {
                records.append(("seeker", try laptops[0].store.createRecord("seeker", [
                    .set("agency", "069-lyon-3"), .set("referent", "c1"), .set("identity.lastName", "Nom"),
                ])))
            }
            /// Syncs until it gets through (the suite runs in parallel: an
            /// exchange may time out even on a healthy link).
            func syncThrough(_ laptop: Laptop) async throws -> Bool {
                let giveUp = ContinuousClock.now + .seconds(300)
                while ContinuousClock.now < giveUp {
                    do {
                        _ = try await laptop.engine.sync()
                        return true
                    } catch let e as SyncError where e.code == .transport {
                        continue
                    }
                }
                return false
            }
            for l in laptops { #expect(try await syncThrough(l)) }

            let planSeed = rng.next()
            proxy.plan { n in
                var r = SplitMix64(seed: planSeed &+ UInt64(n))
                return TCPProxy.ConnectionFault.random(using: &r)
            }
            var lastSequence = [Int64](repeating: 0, count: laptops.count)
            // Every increment made, by record and field: a change applied twice would count twice.
            var increments: [String: Int64] = [:]
            for round in 0..<rounds {
                let i = rng.int(in: 0..<laptops.count)
                let store = laptops[i].store
                var gen = RandomEdits(records: records, values: RandomValues(pools: ["counsellor": ["c1"]]))
                gen.excludedFields = ["agency", "referent", "followers"]
                gen.eraseRecordRate = 0
                gen.deleteRate = 0
                // An erased field forgets its increments: erasure has tests of its own.
                gen.eraseFieldRate = 0
                for _ in 0..<rng.int(in: 1...8) {
                    var states: [String: RecordState] = [:]
                    for (c, id) in records { states[c + id] = try store.state(c, id) ?? RecordState() }
                    guard let (c, id, edit) = gen.next(&rng, state: { states[$0 + $1]! }) else { continue }
                    if (try? store.edit(c, id, [edit])) != nil, case .increment(let field, let n) = edit {
                        increments[id + "/" + field, default: 0] += n
                    }
                }
                s.clock.advance(by: Int64(rng.int(in: 0...5_000)))
                // The laptop retries until its sync gets through.
                let synced = try await syncThrough(laptops[i])
                #expect(synced, "round \(round): a sync never got through; NAVETTE_SEED=\(seed)")
                // The laptop's place in the server's history never goes back, and it never bootstraps again.
                #expect(try store.meta("sync.bootstrap") == nil, "round \(round): the laptop restarted from zero; NAVETTE_SEED=\(seed)")
                if let cursor = try store.meta("sync.cursor"), let seq = Int64(cursor.split(separator: ".")[2]) {
                    #expect(seq >= lastSequence[i], "round \(round): the cursor went back; NAVETTE_SEED=\(seed)")
                    lastSequence[i] = seq
                }
            }
            let faults = proxy.plannedFaults
            proxy.plan(nil)
            for _ in 0..<2 {
                for l in laptops { #expect(try await syncThrough(l), "a sync on the healed link never got through") }
            }
            print("faulty sync: \(faults.count) faulty connections of \(proxy.connections): " +
                Dictionary(grouping: faults.map { "\($0.fault)".split(separator: " ")[0] }, by: { $0 }).mapValues(\.count)
                .sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            #expect(faults.count >= rounds / 2, "the plan must have faulted connections")
            let server = try s.server.store.exportCanonical()
            for (n, l) in laptops.enumerated() {
                #expect(try l.store.exportCanonical() == server, "laptop \(n + 1) diverged; NAVETTE_SEED=\(seed)")
                #expect(try l.store.status().pending == 0)
            }
            // Nothing applied twice: each counter is the sum of the increments made, once each.
            #expect(!increments.isEmpty, "the schedule made no increment to check")
            for (key, total) in increments {
                let parts = key.split(separator: "/")
                let spec = Schema.navette.field("seeker", String(parts[1]))!
                let view = try s.server.store.state("seeker", String(parts[0]))!.view(of: spec)
                #expect(view == .counter(total), "\(key): \(view), expected \(total); NAVETTE_SEED=\(seed)")
            }
            #expect(try s.server.store.integrityCheck() == "ok")
        }
    }
}

/// Asks for the connection to close after each exchange (`Connection: close`).
struct ClosingTransport: SyncTransport {
    let inner: any SyncTransport
    init(_ inner: any SyncTransport) { self.inner = inner }
    func send(_ request: TransportRequest) async throws -> TransportResponse {
        var r = request
        r.headers.append(HeaderField("connection", "close"))
        return try await inner.send(r)
    }
}
