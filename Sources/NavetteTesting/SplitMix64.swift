/// A seeded, portable pseudo-random generator (Steele et al., SplitMix64):
/// the same seed gives the same sequence on every platform and release,
/// which Swift's `SystemRandomNumberGenerator` does not promise.
///
/// ```swift
/// var rng = SplitMix64(seed: 42)
/// rng.next()             // always 13679457532755275413
/// rng.int(in: 0..<10)    // reproducible too
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `range`, without modulo bias worth mentioning at these sizes.
    public mutating func int(in range: Range<Int>) -> Int {
        precondition(!range.isEmpty, "empty range")
        return range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// A number in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int { int(in: range.lowerBound..<(range.upperBound + 1)) }

    /// `true` with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    /// An element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T { items[int(in: 0..<items.count)] }

    /// A Fisher–Yates shuffle driven by this generator.
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var a = items
        if a.count < 2 { return a }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, int(in: 0...i)) }
        return a
    }
}

/// The seed of a randomised test: from the environment variable
/// `NAVETTE_SEED` when set (to replay a failure), otherwise `fallback`.
/// Tests print it, so every failure can be replayed.
public func testSeed(_ fallback: UInt64) -> UInt64 {
    if let text = ProcessEnvironment.value("NAVETTE_SEED"), let v = UInt64(text) { return v }
    return fallback
}

/// An integer knob from the environment (`NAVETTE_CONVERGENCE_SCHEDULES`…),
/// or `fallback`.
public func environmentInt(_ name: String, default fallback: Int) -> Int {
    ProcessEnvironment.value(name).flatMap(Int.init) ?? fallback
}
