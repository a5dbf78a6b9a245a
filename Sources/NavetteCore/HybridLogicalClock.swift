/// A hybrid logical clock (Kulkarni et al., 2014) that never runs far ahead
/// of real time.
///
/// The clock reads no clock of its own: every call is given the node's
/// *corrected* wall time (its own clock plus the offset learned from signed
/// server responses). Its guarantees:
///
/// - **Monotonic.** Each ``tick(wallMillis:)`` returns a time greater than
///   every time it returned or observed before, even when the wall clock
///   goes backwards: the wall part then stays put and the counter grows.
/// - **Bounded.** The wall part never moves past `wallMillis + maximumDrift`.
///   A peer's time further ahead than that is not adopted by
///   ``observe(_:wallMillis:)``, which reports it instead; the change that
///   carried it is still applied, so replicas converge whatever their clocks.
///
/// ```swift
/// var clock = HybridLogicalClock()
/// let a = try clock.tick(wallMillis: 1_000)   // 1000.0
/// let b = try clock.tick(wallMillis: 900)     // 1000.1: the wall went back
/// ```
public struct HybridLogicalClock: Sendable, Hashable {
    /// How far ahead of corrected wall time the clock may be, in milliseconds.
    public var maximumDrift: UInt64
    /// The greatest time this clock has issued or adopted.
    public private(set) var last: Timestamp

    /// The default bound Δ: 60 seconds.
    public static let defaultMaximumDrift: UInt64 = 60_000

    /// Creates a clock that has issued nothing yet, or resumes one at `last`.
    public init(last: Timestamp = .zero, maximumDrift: UInt64 = Self.defaultMaximumDrift) {
        self.last = last
        self.maximumDrift = maximumDrift
    }

    /// Why a clock refused to issue a time.
    public struct Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        /// The logical counter is exhausted at the current wall time: the wall
        /// clock has been behind this clock for 65,535 writes in a row.
        public static let counterExhausted = Error(
            description:
                "the clock is stalled: the system clock is behind the last recorded time for too many writes; set the clock right or sync first"
        )
        public let description: String
    }

    /// Issues the time of a new local event.
    ///
    /// - Parameter wallMillis: the corrected wall time, in milliseconds.
    /// - Returns: a time greater than any issued or observed before.
    /// - Throws: ``Error/counterExhausted`` in the extreme case where the wall
    ///   clock stays behind for 65,535 ticks.
    /// - Complexity: O(1).
    public mutating func tick(wallMillis: UInt64) throws -> Timestamp {
        let wall = min(wallMillis, (1 << 48) - 1)
        if wall > last.wallMillis {
            last = Timestamp(wallMillis: wall, counter: 0)
        } else {
            guard last.counter < UInt16.max else { throw Error.counterExhausted }
            last = Timestamp(wallMillis: last.wallMillis, counter: last.counter + 1)
        }
        return last
    }

    /// Takes a peer's time into account, so that later local events sort
    /// after it.
    ///
    /// - Returns: `false` when `remote` is more than ``maximumDrift`` ahead
    ///   of `wallMillis`; the clock then moves only up to that bound, and the
    ///   caller should flag the peer's clock.
    /// - Complexity: O(1).
    @discardableResult
    public mutating func observe(_ remote: Timestamp, wallMillis: UInt64) -> Bool {
        let bound = Timestamp(wallMillis: min(wallMillis + maximumDrift, (1 << 48) - 1), counter: 0)
        if remote <= bound {
            if remote > last { last = remote }
            return true
        }
        if bound > last { last = bound }
        return false
    }
}
