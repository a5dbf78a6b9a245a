import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import Synchronization
import Testing

/// Many laptops syncing at once against one server over HTTP, each editing
/// at random between syncs (a Monday morning): no sync fails, every laptop
/// ends equal to its view, the replay cache stays bounded.
///
/// 20 nodes for 10 s by default; `NAVETTE_LOAD_NODES` and
/// `NAVETTE_LOAD_SECONDS` (or `NAVETTE_FULL=1`: 200 nodes for 60 s) for more.
@Suite(.serialized)
struct LoadTests {
    @Test func manyLaptopsSyncingAtOnceAllSucceedAndConverge() async throws {
        let full = ProcessEnvironment.value("NAVETTE_FULL") == "1"
        let nodes = environmentInt("NAVETTE_LOAD_NODES", default: full ? 200 : 20)
        let seconds = environmentInt("NAVETTE_LOAD_SECONDS", default: full ? 60 : 10)
        let seed = testSeed(0x10AD_0001)
        print("load: \(nodes) nodes for \(seconds) s from seed \(seed)")
        // The manual clock follows real time: the server's time window and the laptops' clocks agree.
        let clock = ManualClock(millis: RecordStore.systemMillis())
        let ticker = Task {
            var last = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
                let now = ContinuousClock.now
                let elapsed = (now - last).components
                clock.advance(by: elapsed.seconds * 1_000 + elapsed.attoseconds / 1_000_000_000_000_000)
                last = now
            }
        }
        defer { ticker.cancel() }
        try await withServer(clock: clock) { s in
            let agencies = ["069-lyon-3", "075-paris-1"]
            var laptops: [Laptop] = []
            var specs: [ViewSpec] = []
            for i in 0..<nodes {
                let agency = agencies[i % 2]
                // Two laptops per counsellor, so that each edit has a laptop to reach.
                let counsellor = "c\(i / 2)"
                var l = try Laptop(UInt64(i + 1), clock: clock, logs: s.logs)
                l.engine.baseDelay = .milliseconds(50)
                try await l.engine.enrol(server: s.url, code: try s.code(agency: agencies[(i / 2) % 2], counsellor: counsellor))
                laptops.append(l)
                specs.append(ViewSpec(agency: agencies[(i / 2) % 2], counsellor: counsellor, agencyWide: false))
                _ = agency
            }
            defer { laptops.forEach { $0.dir.remove() } }
            let tally = Tally()
            let deadline = ContinuousClock.now + .seconds(seconds)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, laptop) in laptops.enumerated() {
                    let spec = specs[i]
                    group.addTask {
                        var rng = SplitMix64(seed: seed &+ UInt64(i))
                        var mine: [(collection: String, id: String)] = []
                        for _ in 0..<2 {
                            mine.append(("seeker", try laptop.store.createRecord("seeker", [
                                .set("agency", .string(spec.agency)), .set("referent", .string(spec.counsellor!)),
                                .set("identity.lastName", "Nom"),
                            ])))
                        }
                        // Start spread over the first second, as laptops do.
                        try await Task.sleep(for: .milliseconds(rng.int(in: 0...1_000)))
                        while ContinuousClock.now < deadline {
                            let held = try laptop.store.allStates().filter { $0.collection == "seeker" }.map { ($0.collection, $0.id) }
                            var gen = RandomEdits(records: held.isEmpty ? mine : held, values: RandomValues(pools: ["counsellor": [spec.counsellor!]]))
                            gen.excludedFields = ["agency", "referent", "followers"]
                            gen.eraseRecordRate = 0
                            gen.deleteRate = 0
                            for _ in 0..<rng.int(in: 1...3) {
                                var states: [String: RecordState] = [:]
                                for (c, id) in gen.records { states[c + id] = try laptop.store.state(c, id) ?? RecordState() }
                                guard let (c, id, edit) = gen.next(&rng, state: { states[$0 + $1]! }) else { continue }
                                _ = try? laptop.store.edit(c, id, [edit])
                            }
                            let start = ContinuousClock.now
                            do {
                                _ = try await laptop.engine.sync()
                                tally.latencies.withLock { $0.append(ContinuousClock.now - start) }
                            } catch {
                                tally.failures.withLock { $0.append("laptop \(i + 1): \(error)") }
                            }
                            try await Task.sleep(for: .milliseconds(rng.int(in: 100...1_000)))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let all = tally.latencies.withLock { $0 }.sorted()
            let p99 = all.isEmpty ? .zero : all[min(all.count - 1, all.count * 99 / 100)]
            let rate = Double(all.count) / Double(seconds)
            print(
                "load: \(all.count) syncs in \(seconds) s (\(String(format: "%.1f", rate))/s), p50 \(all.isEmpty ? .zero : all[all.count / 2]), "
                    + "p99 \(p99), \(tally.failures.withLock { $0.count }) failed, process RSS \(ProcessMemory.residentMegabytes()) MB")
            #expect(tally.failures.withLock { $0 }.isEmpty, "syncs failed under load: \(tally.failures.withLock { $0.prefix(3) }); NAVETTE_SEED=\(seed)")
            // No rate is asserted (a shared machine's speed varies); every laptop must have synced.
            #expect(all.count >= nodes, "fewer syncs than laptops ran")
            // Everyone syncs twice more, then every laptop equals its view on the server.
            for _ in 0..<2 {
                for l in laptops { _ = try await l.engine.sync() }
            }
            for (i, l) in laptops.enumerated() {
                let view = try s.server.store.exportCanonical(view: try s.server.store.view(specs[i]))
                #expect(try l.store.exportCanonical() == view, "laptop \(i + 1) diverged; NAVETTE_SEED=\(seed)")
            }
            // The replay cache holds at most the nonces of the time window.
            #expect(try s.server.registry.nonceCount() <= all.count * 3 + nodes * 10)
        }
    }
}

/// What the load test's tasks report.
final class Tally: Sendable {
    let latencies = Mutex<[Duration]>([])
    let failures = Mutex<[String]>([])
}
