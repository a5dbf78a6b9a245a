import NavetteCore
import Testing

struct ClockTests {
    @Test func packingPutsWallTimeAboveTheCounter() {
        let t = Timestamp(wallMillis: 1_700_000_000_000, counter: 2)
        #expect(t.rawValue == 1_700_000_000_000 << 16 | 2)
        #expect(t.description == "018bcfe568000002")
        #expect(Timestamp("018bcfe568000002") == t)
        #expect(Timestamp("018BCFE568000002") == nil)
        #expect(Timestamp("18bcfe568000002") == nil)
    }

    @Test func tickIsMonotonicWhenTheWallClockGoesBackwards() throws {
        var clock = HybridLogicalClock()
        let a = try clock.tick(wallMillis: 10_000)
        let b = try clock.tick(wallMillis: 10_000)
        let c = try clock.tick(wallMillis: 4_000)  // the wall clock jumped back 6 s
        let d = try clock.tick(wallMillis: 12_000)
        #expect(a < b && b < c && c < d)
        #expect(c.wallMillis == 10_000 && c.counter == 2)
        #expect(d == Timestamp(wallMillis: 12_000, counter: 0))
    }

    @Test func observeAdoptsPeersWithinTheBound() throws {
        var clock = HybridLogicalClock(maximumDrift: 60_000)
        let remote = Timestamp(wallMillis: 50_000, counter: 7)
        let adopted = clock.observe(remote, wallMillis: 10_000)
        #expect(adopted)
        let next = try clock.tick(wallMillis: 10_000)
        #expect(next > remote)
    }

    @Test func observeNeverAdvancesPastCorrectedTimePlusDelta() throws {
        var clock = HybridLogicalClock(maximumDrift: 60_000)
        let farFuture = Timestamp(wallMillis: 10_000 + 3_600_000, counter: 0)
        let adopted = clock.observe(farFuture, wallMillis: 10_000)
        #expect(!adopted)
        #expect(clock.last.wallMillis <= 10_000 + 60_000)
        let next = try clock.tick(wallMillis: 10_000)
        #expect(next.wallMillis <= 70_000)
        #expect(next < farFuture)
    }

    @Test func counterExhaustionIsAClearErrorNotAWrap() throws {
        var clock = HybridLogicalClock(last: Timestamp(wallMillis: 5_000, counter: UInt16.max - 1))
        _ = try clock.tick(wallMillis: 1_000)
        #expect(throws: HybridLogicalClock.Error.counterExhausted) { try clock.tick(wallMillis: 1_000) }
        // Once the wall clock catches up, it works again.
        #expect(try clock.tick(wallMillis: 5_001) == Timestamp(wallMillis: 5_001, counter: 0))
    }

    @Test func idsHaveOneTextFormEach() {
        let node = NodeID(rawValue: 0x1f)
        #expect(node.description == "000000000000001f")
        #expect(NodeID("000000000000001f") == node)
        let id = ChangeID(origin: node, counter: 42)
        #expect(id.description == "000000000000001f-42")
        #expect(ChangeID("000000000000001f-42") == id)
        for bad in ["000000000000001f-0", "000000000000001f-042", "000000000000001f-", "1f-42", "000000000000001f-4x"] {
            #expect(ChangeID(bad) == nil, "\(bad) should not parse")
        }
    }
}
