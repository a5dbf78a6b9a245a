/// A JSON value with a canonical encoding: the payload type of every change.
///
/// Navette never uses floating point in its own data, so a number is an
/// ``int(_:)`` when it is an integer that fits 64 bits, and otherwise a
/// ``number(_:)`` that keeps the lexeme it was parsed from — a peer's value
/// of a field this version does not know is then relayed byte for byte.
///
/// Objects keep their keys sorted, so two equal values always encode to the
/// same bytes:
///
/// ```swift
/// let v: JSONValue = ["b": 1, "a": "x"]
/// v.canonicalString  // {"a":"x","b":1}
/// ```
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    /// A number that is not a 64-bit integer, kept as its JSON lexeme.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The string, if this value is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this value is an integer.
    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    /// The Boolean, if this value is a Boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The members, if this value is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The elements, if this value is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The member named `key`, if this value is an object that has it.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The canonical encoding: no whitespace, object keys sorted by their
    /// UTF-8 bytes, strings escaped minimally (`"`, `\`, and control
    /// characters as `\uXXXX` except `\n`, `\r`, `\t`, `\b`, `\f`).
    ///
    /// - Complexity: O(n log n) in the size of the value (key sorting).
    public var canonicalString: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// The canonical encoding as UTF-8 bytes.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        self.write(to: &out)
        return out
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): DirectWriter.decimal(i, to: &out)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, e) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                e.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            // Members sorted with their values: no lookup per key.
            for (i, member) in o.sorted(by: { JSONValue.utf8Less($0.key, $1.key) }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A change counter (ids allow 1 to 20 digits, so up to `UInt64.max`):
    /// an integer, or past `Int64.max` the number as written, which
    /// canonical JSON keeps as it is.
    public static func counter(_ c: UInt64) -> JSONValue {
        c <= UInt64(Int64.max) ? .int(Int64(c)) : .number(String(c))
    }

    /// The counter this value holds (see ``counter(_:)``): a non-negative
    /// integer up to `UInt64.max`; `nil` for anything else.
    public var counterValue: UInt64? {
        switch self {
        case .int(let i) where i >= 0: UInt64(i)
        // A JSON number has no '+', no leading zero: UInt64 reads only digits here.
        case .number(let n) where n.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }): UInt64(n)
        default: nil
        }
    }

    /// Orders strings by their UTF-8 bytes, which is the order canonical
    /// JSON uses for object keys (and Navette for records).
    public static func utf8Less(_ a: String, _ b: String) -> Bool {
        // On the strings' contiguous UTF-8 where they have it (native and
        // small strings), not byte by byte through the generic iterator.
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool in
                for i in 0..<min(x.count, y.count) where x[i] != y[i] { return x[i] < y[i] }
                return x.count < y.count
            }
        }
        if let fast, let result = fast { return result }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Writes `"name":`, for writers that emit members in canonical order
    /// themselves (names that need no escaping).
    static func writeMemberName(_ name: StaticString, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: "\":".utf8)
    }

    /// Appends `bytes` when none needs escaping; `false` (nothing appended)
    /// otherwise.
    @inline(__always)
    private static func appendIfPlain(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) -> Bool {
        for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
        out.append(contentsOf: bytes)
        return true
    }

    /// Writes `s` quoted and minimally escaped. Byte by byte is exact for
    /// UTF-8: the characters escaped are ASCII, and every byte of a
    /// multi-byte sequence is 0x80 or above.
    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let plain =
            s.utf8.withContiguousStorageIfAvailable { appendIfPlain($0, to: &out) } ?? appendIfPlain(s.utf8, to: &out)
        if !plain {
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case 0x0A: out.append(contentsOf: #"\n"#.utf8)
                case 0x0D: out.append(contentsOf: #"\r"#.utf8)
                case 0x09: out.append(contentsOf: #"\t"#.utf8)
                case 0x08: out.append(contentsOf: #"\b"#.utf8)
                case 0x0C: out.append(contentsOf: #"\f"#.utf8)
                case ..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: #"\u00"#.utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0F)])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { self.canonicalString }
}
