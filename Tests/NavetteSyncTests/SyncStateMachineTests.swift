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

    @Test func transientFailuresBackOffExponentiallyThenGiveUp() {
        var m = SyncStateMachine(maximumAttempts: 4, baseDelay: .milliseconds(100))
        _ = m.start()
        let error = SyncError(.transport, "down")
        var delays: [Duration] = []
        var action = m.failed(error, isTransient: true)
        while case .wait(let d) = action {
            delays.append(d)
            #expect(m.retryTimerFired() == .push, "a retry repeats the step that failed")
            action = m.failed(error, isTransient: true)
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400)])
        #expect(action == .fail(error))
    }

    @Test func aRetryThatSucceedsGoesOnAndResetsTheAttempts() {
        var m = SyncStateMachine(maximumAttempts: 2, baseDelay: .milliseconds(10))
        _ = m.start()
        _ = m.pushed(more: false)
        #expect(m.failed(SyncError(.transport, "cut"), isTransient: true) == .wait(.milliseconds(10)))
        #expect(m.retryTimerFired() == .pull)
        #expect(m.pulled(more: true) == .pull)
        #expect(m.failed(SyncError(.transport, "cut"), isTransient: true) == .wait(.milliseconds(10)))
    }

    @Test func aRefusalIsNotRetried() {
        var m = SyncStateMachine()
        _ = m.start()
        let refused = SyncError(.refused, "forbidden", problem: "forbidden")
        #expect(m.failed(refused, isTransient: refused.isTransient) == .fail(refused))
    }
}
