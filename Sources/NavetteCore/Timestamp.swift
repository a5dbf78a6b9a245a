/// A hybrid logical clock time: wall-clock milliseconds plus a logical
/// counter, packed into 64 bits.
///
/// The packing, which the protocol uses on the wire as 16 lowercase
/// hexadecimal digits, is
///
/// ```text
///  63                              16 15            0
/// +----------------------------------+---------------+
/// | milliseconds since 1970-01-01 UTC|    counter    |
/// +----------------------------------+---------------+
/// ```
///
/// so comparing two packed values compares times first, then counters.
/// 48 bits of milliseconds reach the year 10889.
///
/// ```swift
/// let t = Timestamp(wallMillis: 1_700_000_000_000, counter: 2)
/// t.description  // "018bcfe568000002"
/// ```
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The packed 64-bit value.
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Creates a timestamp from its parts.
    ///
    /// - Precondition: `wallMillis < 2^48`.
    public init(wallMillis: UInt64, counter: UInt16) {
        precondition(wallMillis < 1 << 48, "wall time out of range")
        self.rawValue = wallMillis << 16 | UInt64(counter)
    }

    /// Parses the 16-hex-digit form; `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        guard let v = parseHex16(text.utf8) else {
            return nil
        }
        self.rawValue = v
    }

    /// Milliseconds since the Unix epoch.
    public var wallMillis: UInt64 { rawValue >> 16 }
    /// The logical counter within one millisecond.
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    public static let zero = Timestamp(rawValue: 0)

    public var description: String { hex16(rawValue) }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.rawValue < b.rawValue }
}

/// The total order in which concurrent values are ranked: time first, then
/// the writing node. Two changes never share a stamp, because a node never
/// repeats a timestamp.
public struct Stamp: Hashable, Comparable, Sendable {
    public var time: Timestamp
    public var node: NodeID

    public init(time: Timestamp, node: NodeID) {
        self.time = time
        self.node = node
    }

    public static func < (a: Stamp, b: Stamp) -> Bool { (a.time, a.node) < (b.time, b.node) }
}
