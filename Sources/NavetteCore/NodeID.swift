/// The identity of a node (a counsellor's laptop, or the server).
///
/// A node id is a random 64-bit number minted when the node is created,
/// written as 16 lowercase hexadecimal digits. It is opaque (no personal
/// data) and breaks ties between concurrent writes that carry the same
/// hybrid logical clock time.
///
/// ```swift
/// let id = NodeID(rawValue: 0x1f)
/// id.description             // "000000000000001f"
/// NodeID("000000000000001f") // same id
/// ```
public struct NodeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Parses the 16-hex-digit form; `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        guard text.utf8.count == 16, text.utf8.allSatisfy(isLowerHex), let v = UInt64(text, radix: 16) else {
            return nil
        }
        self.rawValue = v
    }

    /// Mints a random node id with the given generator.
    public static func random(using generator: inout some RandomNumberGenerator) -> NodeID {
        NodeID(rawValue: generator.next())
    }

    public var description: String { hex16(rawValue) }

    public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }
}

/// The identity of a change, and of the value it wrote: the node that made
/// it and that node's counter, which starts at 1 and never repeats.
///
/// Written `<node>-<counter>`, for example `000000000000001f-42`.
public struct ChangeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var origin: NodeID
    public var counter: UInt64

    public init(origin: NodeID, counter: UInt64) {
        self.origin = origin
        self.counter = counter
    }

    /// Parses `<16 hex digits>-<decimal counter>`; `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        let s = String(text)
        guard s.utf8.count >= 18, let dash = s.firstIndex(of: "-"),
            let origin = NodeID(s[s.startIndex..<dash])
        else { return nil }
        let digits = s[s.index(after: dash)...]
        guard !digits.isEmpty, digits.utf8.count <= 20, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            !(digits.utf8.count > 1 && digits.utf8.first == 0x30), let counter = UInt64(digits), counter > 0
        else { return nil }
        self.init(origin: origin, counter: counter)
    }

    public var description: String { "\(origin)-\(counter)" }

    public static func < (a: ChangeID, b: ChangeID) -> Bool {
        (a.origin, a.counter) < (b.origin, b.counter)
    }
}

@inline(__always) func isLowerHex(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66)
}

func hex16(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
