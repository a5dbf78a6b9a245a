import Synchronization

/// A wall clock a test sets by hand, in milliseconds since 1970.
///
/// ```swift
/// let clock = ManualClock(millis: 1_764_000_000_000)
/// let store = try RecordStore.inMemory(identity: me, configuration: .init(wallClock: clock.read))
/// clock.advance(by: 60_000)
/// ```
public final class ManualClock: Sendable {
    private let value: Mutex<UInt64>

    public init(millis: UInt64) { self.value = Mutex(millis) }

    /// The current time.
    public var millis: UInt64 { value.withLock { $0 } }

    /// Sets the time (it may go backwards, as laptop clocks do).
    public func set(_ millis: UInt64) { value.withLock { $0 = millis } }

    /// Moves the time forward (or back, with a negative amount).
    public func advance(by delta: Int64) {
        value.withLock { $0 = UInt64(max(0, Int64($0) + delta)) }
    }

    /// A function reading this clock, for `RecordStore.Configuration`.
    public var read: @Sendable () -> UInt64 { { [self] in self.millis } }
}
