import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import Testing

/// The link shaper really shapes: a sync over an emulated link never takes
/// less than the link's floor (a correctness check of the shaper: a lower
/// bound, which a slow machine only makes easier).
@Suite(.serialized)
struct LinkShaperTests {
    @Test func aSyncOverAShapedLinkTakesAtLeastItsFloor() async throws {
        try await withServer(clock: ManualClock(millis: RecordStore.systemMillis())) { s in
            let (proxy, url) = try await s.behindProxy()
            defer { Task { try? await proxy.stop() } }
            let a = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { a.dir.remove() }
            try await a.engine.enrol(server: url, code: try s.code())
            for i in 0..<20 {
                _ = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", "c1"), .set("notes", .string(String(repeating: "suivi \(i) ", count: 30)))])
            }
            let link = TCPProxy.LinkProfile(name: "test", downKbps: 100, upKbps: 50, roundTrip: .milliseconds(200))
            proxy.shape(link)
            let start = ContinuousClock.now
            let report = try await a.engine.sync()
            let elapsed = ContinuousClock.now - start
            let floor = link.floor(bytesDown: report.bytesReceived, bytesUp: report.bytesSent, roundTrips: report.roundTrips)
            #expect(elapsed >= floor * 0.95, "the shaped sync took \(elapsed), below the link's floor \(floor)")
            #expect(report.pushed == 60)
        }
    }
}
