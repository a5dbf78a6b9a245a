import NavetteClient
import Testing

struct SyncStateMachineTests {
    @Test func pushesThenPullsThenFinishes() {
        var m = SyncStateMachine()
        #expect(m.start() == .push)
        #expect(m.pushed(more: true) == .push)
        #expect(m.pushed(more: false) == .pull)
        #expect(m.pulled(more: true) == .pull)
        #expect(m.pulled(more: false) == .finish)
    }

    /// The delays a step waits through, failing with `error` every time,
    /// before the machine gives up.
    func delays(failingWith error: SyncError, maximumAttempts: Int) -> (delays: [Duration], last: SyncStateMachine.Action) {
        var m = SyncStateMachine(maximumAttempts: maximumAttempts, baseDelay: .milliseconds(100))
        _ = m.start()
        var delays: [Duration] = []
        var action = m.failed(error, isTransient: error.isTransient)
        while case .wait(let d) = action {
            delays.append(d)
            #expect(m.retryTimerFired() == .push, "a retry repeats the step that failed")
            action = m.failed(error, isTransient: error.isTransient)
        }
        return (delays, action)
    }

    @Test func aBusyServerIsRetriedWithExponentialBackoffThenGivenUp() {
        for error in [
            SyncError(.transport, "the server answered 503", status: 503),
            SyncError(.transport, "rate-limited", problem: "rate-limited", status: 429),
        ] {
            let (delays, last) = delays(failingWith: error, maximumAttempts: 4)
            #expect(!error.isConnectionFailure)
            #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400)], "\(error)")
            #expect(last == .fail(error))
        }
    }

    @Test func aBrokenConnectionIsRetriedAtOnceThenWithBackoff() {
        let error = SyncError(.transport, "the connection broke")
        #expect(error.isConnectionFailure)
        let (delays, last) = delays(failingWith: error, maximumAttempts: 5)
        #expect(delays == [.zero, .milliseconds(100), .milliseconds(200), .milliseconds(400)])
        #expect(last == .fail(error))
    }

    @Test func theDefaultsWaitAsLongForALinkAsForABusyServer() {
        let engineDefaults = SyncStateMachine()
        var total = Duration.zero
        var m = engineDefaults
        _ = m.start()
        while case .wait(let d) = m.failed(SyncError(.transport, "down"), isTransient: true) {
            total += d
            _ = m.retryTimerFired()
        }
        #expect(engineDefaults.maximumAttempts == 6)
        #expect(total == .milliseconds(500 + 1_000 + 2_000 + 4_000), "a broken link is given 7.5 s in all before the sync gives up")
    }

    @Test func aRetryThatSucceedsGoesOnAndResetsTheAttempts() {
        var m = SyncStateMachine(maximumAttempts: 3, baseDelay: .milliseconds(10))
        _ = m.start()
        _ = m.pushed(more: false)
        let cut = SyncError(.transport, "cut")
        #expect(m.failed(cut, isTransient: true) == .wait(.zero))
        #expect(m.retryTimerFired() == .pull)
        #expect(m.failed(cut, isTransient: true) == .wait(.milliseconds(10)))
        #expect(m.retryTimerFired() == .pull)
        #expect(m.pulled(more: true) == .pull)
        #expect(m.failed(cut, isTransient: true) == .wait(.zero), "a new page starts again from an immediate retry")
    }

    @Test func aRefusalIsNotRetried() {
        var m = SyncStateMachine()
        _ = m.start()
        let refused = SyncError(.refused, "forbidden", problem: "forbidden", status: 403)
        #expect(m.failed(refused, isTransient: refused.isTransient) == .fail(refused))
    }
}
