/// The decisions of one sync, as a pure state machine: push batches until
/// none is pending, then pull pages until none is left; on a transient
/// failure, retry the same step (at once after a first broken connection,
/// then with exponential backoff); give up after a number of attempts.
/// ``SyncEngine`` performs its actions.
///
/// ```swift
/// var machine = SyncStateMachine()
/// var action = machine.start()          // .push
/// action = machine.pushed(more: false)  // .pull
/// action = machine.pulled(more: false)  // .finish
/// ```
public struct SyncStateMachine: Sendable {
    /// What the driver must do next.
    public enum Action: Equatable, Sendable {
        case push
        case pull
        /// Sleep, then call ``retryTimerFired()``.
        case wait(Duration)
        case finish
        case fail(SyncError)
    }

    enum Phase: Equatable { case push, pull }
    enum State: Equatable {
        case idle
        case running(Phase, attempt: Int)
        case waiting(Phase, attempt: Int)
        case finished
    }

    /// How many times one step is tried before the sync gives up.
    public var maximumAttempts: Int
    /// The first backoff delay; each retry doubles it.
    public var baseDelay: Duration
    var state = State.idle

    public init(maximumAttempts: Int = 6, baseDelay: Duration = .milliseconds(500)) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
    }

    public mutating func start() -> Action {
        precondition(state == .idle, "Invalid state \(state)")
        state = .running(.push, attempt: 1)
        return .push
    }

    /// A batch was acknowledged: push the next, or start pulling.
    public mutating func pushed(more: Bool) -> Action {
        guard case .running(.push, _) = state else { preconditionFailure("Invalid state \(state)") }
        state = .running(more ? .push : .pull, attempt: 1)
        return more ? .push : .pull
    }

    /// A page was applied: pull the next, or finish.
    public mutating func pulled(more: Bool) -> Action {
        guard case .running(.pull, _) = state else { preconditionFailure("Invalid state \(state)") }
        if more {
            state = .running(.pull, attempt: 1)
            return .pull
        }
        state = .finished
        return .finish
    }

    /// A step failed. Transient failures are retried after a delay; the
    /// others end the sync.
    ///
    /// - A broken connection (``SyncError/isConnectionFailure``) is retried
    ///   at once the first time: the link dropped, and a new connection is
    ///   all it takes. If that fails too, the retries back off: `baseDelay`,
    ///   then twice as long each time.
    /// - A server that answered with an error (5xx, rate-limited) is busy:
    ///   every retry backs off, from `baseDelay`.
    public mutating func failed(_ error: SyncError, isTransient: Bool) -> Action {
        guard case .running(let phase, let attempt) = state else { preconditionFailure("Invalid state \(state)") }
        guard isTransient, attempt < maximumAttempts else {
            state = .finished
            return .fail(error)
        }
        state = .waiting(phase, attempt: attempt)
        if error.isConnectionFailure {
            return .wait(attempt == 1 ? .zero : baseDelay * (1 << (attempt - 2)))
        }
        return .wait(baseDelay * (1 << (attempt - 1)))
    }

    /// The backoff delay passed: retry the step that failed.
    public mutating func retryTimerFired() -> Action {
        guard case .waiting(let phase, let attempt) = state else { preconditionFailure("Invalid state \(state)") }
        state = .running(phase, attempt: attempt + 1)
        return phase == .push ? .push : .pull
    }
}
