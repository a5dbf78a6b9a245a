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
    public var canonicalString: String {
        var out = ""
        out.reserveCapacity(64)
        self.write(to: &out)
        return out
    }

    /// The canonical encoding as UTF-8 bytes.
    public var canonicalBytes: [UInt8] { Array(self.canonicalString.utf8) }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let n): out += n
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out += "["
            for (i, e) in a.enumerated() {
                if i > 0 { out += "," }
                e.write(to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, key) in o.keys.sorted(by: JSONValue.utf8Less).enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                o[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    /// Orders strings by their UTF-8 bytes, which is the order canonical
    /// JSON uses for object keys (and Navette for records).
    public static func utf8Less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
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
