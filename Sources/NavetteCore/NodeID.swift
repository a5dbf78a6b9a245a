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
        guard let v = parseHex16(text.utf8) else { return nil }
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
        self.init(utf8: text.utf8)
    }

    /// Parses `<16 hex digits>-<decimal counter>` from its UTF-8 bytes.
    init?(utf8: some Collection<UInt8>) {
        // One pass over the bytes: 16 lowercase hex digits, a dash, then a
        // decimal counter of 1 to 20 digits, above 0, with no leading zero.
        var origin: UInt64 = 0
        var counter: UInt64 = 0
        var position = 0
        var digits = 0
        var leadingZero = false
        for b in utf8 {
            if position < 16 {
                guard let d = hexDigit(b) else { return nil }
                origin = origin << 4 | d
            } else if position == 16 {
                guard b == UInt8(ascii: "-") else { return nil }
            } else {
                guard b >= 0x30, b <= 0x39, digits < 20 else { return nil }
                if digits == 0 { leadingZero = b == 0x30 }
                let (times10, o1) = counter.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(b - 0x30))
                guard !o1, !o2 else { return nil }
                counter = sum
                digits += 1
            }
            position += 1
        }
        guard digits > 0, !(digits > 1 && leadingZero), counter > 0 else { return nil }
        self.init(origin: NodeID(rawValue: origin), counter: counter)
    }

    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(37)
        DirectWriter.hex16(origin.rawValue, to: &out)
        out.append(UInt8(ascii: "-"))
        DirectWriter.decimal(counter, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (a: ChangeID, b: ChangeID) -> Bool {
        (a.origin, a.counter) < (b.origin, b.counter)
    }
}

/// The value of a lowercase hex digit.
@inline(__always) func hexDigit(_ b: UInt8) -> UInt64? {
    switch b {
    case 0x30...0x39: UInt64(b - 0x30)
    case 0x61...0x66: UInt64(b - 0x61 + 10)
    default: nil
    }
}

/// Exactly 16 lowercase hex digits, read in one pass.
func parseHex16(_ bytes: some Collection<UInt8>) -> UInt64? {
    var v: UInt64 = 0
    var n = 0
    for b in bytes {
        guard n < 16, let d = hexDigit(b) else { return nil }
        v = v << 4 | d
        n += 1
    }
    return n == 16 ? v : nil
}

func hex16(_ v: UInt64) -> String {
    var digits: [UInt8] = []
    digits.reserveCapacity(16)
    DirectWriter.hex16(v, to: &digits)
    return String(decoding: digits, as: UTF8.self)
}

/// Byte writers for the direct encoders (stored states, changes): the text
/// forms of ids, times and integers, with no `String` built.
enum DirectWriter {
    /// Appends the 16 lowercase hex digits of `v` (what ``hex16(_:)`` returns).
    static func hex16(_ v: UInt64, to out: inout [UInt8]) {
        // Sixteen bytes made room for once, then filled: no append per digit.
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 16))
        out.withUnsafeMutableBufferPointer { p in
            for i in 0..<16 {
                let d = UInt8(truncatingIfNeeded: v >> (60 - 4 * UInt64(i))) & 0xF
                p[start + i] = d < 10 ? 0x30 + d : 0x57 + d
            }
        }
    }

    /// Appends `v` in decimal, as `String(v)` writes it.
    static func decimal(_ v: UInt64, to out: inout [UInt8]) {
        let start = out.count
        var rest = v
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        out[start...].reverse()
    }

    /// Appends `v` in decimal, as `String(v)` writes it.
    static func decimal(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        decimal(v.magnitude, to: &out)
    }

    /// Appends `"<id>"`: the quoted text of a change id, `<node>-<counter>`.
    static func quoted(_ id: ChangeID, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        hex16(id.origin.rawValue, to: &out)
        out.append(UInt8(ascii: "-"))
        decimal(id.counter, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the quoted 16 hex digits of a time or a node id.
    static func quotedHex16(_ v: UInt64, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        hex16(v, to: &out)
        out.append(UInt8(ascii: "\""))
    }
}
