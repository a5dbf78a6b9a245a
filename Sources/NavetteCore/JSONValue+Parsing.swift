/// Limits a strict JSON parse enforces before it builds anything.
public struct JSONParsingLimits: Sendable, Hashable {
    /// The deepest nesting of arrays and objects accepted.
    public var maximumDepth: Int
    /// The largest input accepted, in bytes.
    public var maximumBytes: Int
    /// The longest string accepted, in bytes of its encoded form.
    public var maximumStringBytes: Int

    /// Creates limits.
    public init(maximumDepth: Int = 32, maximumBytes: Int = 8 << 20, maximumStringBytes: Int = 1 << 20) {
        self.maximumDepth = maximumDepth
        self.maximumBytes = maximumBytes
        self.maximumStringBytes = maximumStringBytes
    }

    /// The limits Navette uses for changes and messages.
    public static let `default` = JSONParsingLimits()

    /// Refuses an input of `count` bytes if it is over ``maximumBytes``.
    func checkSize(_ count: Int) throws {
        guard count <= maximumBytes else {
            throw JSONParsingError(code: "too-large", message: "the JSON text is larger than \(maximumBytes) bytes", offset: 0)
        }
    }
}

/// Why a JSON text was refused. The message names the rule and the byte
/// offset, never the content.
public struct JSONParsingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable code for logs and problem details.
    public var code: String
    /// A human explanation that never quotes the input.
    public var message: String
    /// The byte offset where parsing stopped.
    public var offset: Int

    public var description: String { "\(message) (at byte \(offset))" }
}

extension JSONValue {
    /// Parses a JSON text strictly.
    ///
    /// Unlike Foundation's `JSONDecoder`, this refuses duplicate object keys,
    /// trailing content after the value, nesting deeper than
    /// `limits.maximumDepth`, inputs larger than `limits.maximumBytes`,
    /// unpaired surrogates and invalid UTF-8.
    ///
    /// ```swift
    /// try JSONValue(parsing: Array(#"{"a":1}"#.utf8))      // ok
    /// try JSONValue(parsing: Array(#"{"a":1,"a":2}"#.utf8)) // throws duplicate-key
    /// ```
    ///
    /// - Throws: ``JSONParsingError``.
    public init(parsing bytes: some Collection<UInt8>, limits: JSONParsingLimits = .default) throws {
        try limits.checkSize(bytes.count)
        var parser = StrictJSONParser(bytes: Array(bytes), limits: limits)
        self = try parser.parseDocument()
    }

    /// Parses a JSON text given as a string. See ``init(parsing:limits:)``.
    public init(parsing text: String, limits: JSONParsingLimits = .default) throws {
        try self.init(parsing: Array(text.utf8), limits: limits)
    }
}

struct StrictJSONParser {
    let bytes: [UInt8]
    let limits: JSONParsingLimits
    var i = 0

    init(bytes: [UInt8], limits: JSONParsingLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    func fail(_ code: String, _ message: String) -> JSONParsingError {
        JSONParsingError(code: code, message: message, offset: i)
    }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let v = try parseValue(depth: 0)
        skipWhitespace()
        guard i == bytes.count else { throw fail("trailing-content", "unexpected content after the JSON value") }
        return v
    }

    mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard i < bytes.count else { throw fail("truncated", "the JSON text ends before a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected-character", "expected a JSON value")
        }
    }

    mutating func expectLiteral(_ literal: String) throws {
        let lit = Array(literal.utf8)
        guard i + lit.count <= bytes.count else { throw fail("truncated", "the JSON text ends inside a literal") }
        for k in 0..<lit.count where bytes[i + k] != lit[k] {
            throw fail("unexpected-character", "invalid literal")
        }
        i += lit.count
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        var members: [String: JSONValue] = [:]
        try readObject(depth: depth) { p, key, keyOffset in
            let value = try p.parseValue(depth: depth)
            guard members.updateValue(value, forKey: key) == nil else { throw Self.duplicateKey(at: keyOffset) }
        }
        return .object(members)
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        var elements: [JSONValue] = []
        try readArray(depth: depth) { p in elements.append(try p.parseValue(depth: depth)) }
        return .array(elements)
    }

    /// Reads the object that starts here (at `{`), at nesting `depth`: for
    /// each member, its key (and the key's offset), then `member`, which
    /// must read the value. Refusing a repeated key is `member`'s part.
    mutating func readObject(depth: Int, _ member: (inout Self, _ key: String, _ keyOffset: Int) throws -> Void) throws {
        guard depth <= limits.maximumDepth else {
            throw fail("too-deep", "JSON nesting is deeper than \(limits.maximumDepth) levels")
        }
        i += 1
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                throw fail("unexpected-character", "expected an object key")
            }
            let keyOffset = i
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("unexpected-character", "expected ':'") }
            i += 1
            skipWhitespace()
            try member(&self, key, keyOffset)
            skipWhitespace()
            guard i < bytes.count else { throw fail("truncated", "the JSON text ends inside an object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return }
            throw fail("unexpected-character", "expected ',' or '}'")
        }
    }

    /// Reads the array that starts here (at `[`), at nesting `depth`:
    /// `element` reads each element.
    mutating func readArray(depth: Int, _ element: (inout Self) throws -> Void) throws {
        guard depth <= limits.maximumDepth else {
            throw fail("too-deep", "JSON nesting is deeper than \(limits.maximumDepth) levels")
        }
        i += 1
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            guard i < bytes.count else { throw fail("truncated", "the JSON text ends inside an array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return }
            throw fail("unexpected-character", "expected ',' or ']'")
        }
    }

    static func duplicateKey(at offset: Int) -> JSONParsingError {
        JSONParsingError(code: "duplicate-key", message: "an object repeats a key", offset: offset)
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = i
        var isInteger = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid-number", "invalid number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid-number", "invalid number") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("invalid-number", "invalid number") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        let lexeme = String(decoding: bytes[start..<i], as: UTF8.self)
        // "-0" is the integer 0 (spec ENC-004): every implementation encodes it "0".
        if isInteger, let v = Int64(lexeme) { return .int(v) }
        return .number(lexeme)
    }

    func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// If the string that starts here (at its quote) is printable ASCII
    /// with nothing escaped, within the length limit, reads it and returns
    /// the range of its content; otherwise reads nothing.
    mutating func plainString() -> Range<Int>? {
        let start = i
        var j = i + 1
        while j < bytes.count, j - start <= limits.maximumStringBytes {
            let b = bytes[j]
            guard b >= 0x20, b < 0x80, b != UInt8(ascii: "\\") else { return nil }
            if b == UInt8(ascii: "\"") {
                i = j + 1
                return (start + 1)..<j
            }
            j += 1
        }
        return nil
    }

    mutating func parseString() throws -> String {
        // Most strings are plain ASCII with nothing escaped: taken in one copy.
        if let plain = plainString() { return String(decoding: bytes[plain], as: UTF8.self) }
        let start = i
        i += 1
        var scalars = String.UnicodeScalarView()
        while true {
            guard i < bytes.count else { throw fail("truncated", "the JSON text ends inside a string") }
            guard i - start <= limits.maximumStringBytes else {
                throw fail("string-too-long", "a string is longer than \(limits.maximumStringBytes) bytes")
            }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; return String(scalars) }
            if b < 0x20 { throw fail("control-character", "a string contains an unescaped control character") }
            if b == UInt8(ascii: "\\") {
                i += 1
                guard i < bytes.count else { throw fail("truncated", "the JSON text ends inside an escape") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    let hi = try parseHex4()
                    if (0xD800...0xDBFF).contains(hi) {
                        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
                        else { throw fail("invalid-escape", "an unpaired surrogate escape") }
                        i += 2
                        let lo = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(lo) else { throw fail("invalid-escape", "an unpaired surrogate escape") }
                        scalars.append(Unicode.Scalar(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))!)
                    } else if (0xDC00...0xDFFF).contains(hi) {
                        throw fail("invalid-escape", "an unpaired surrogate escape")
                    } else {
                        scalars.append(Unicode.Scalar(hi)!)
                    }
                default: throw fail("invalid-escape", "an invalid escape sequence")
                }
                continue
            }
            // Decode one UTF-8 scalar strictly.
            let (scalar, length) = try decodeUTF8(at: i)
            scalars.append(scalar)
            i += length
        }
    }

    mutating func parseHex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("truncated", "the JSON text ends inside an escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw fail("invalid-escape", "an invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    func decodeUTF8(at p: Int) throws -> (Unicode.Scalar, Int) {
        let b0 = bytes[p]
        if b0 < 0x80 { return (Unicode.Scalar(b0), 1) }
        let length: Int
        var v: UInt32
        switch b0 {
        case 0xC2...0xDF: length = 2; v = UInt32(b0 & 0x1F)
        case 0xE0...0xEF: length = 3; v = UInt32(b0 & 0x0F)
        case 0xF0...0xF4: length = 4; v = UInt32(b0 & 0x07)
        default: throw JSONParsingError(code: "invalid-utf8", message: "the text is not valid UTF-8", offset: p)
        }
        guard p + length <= bytes.count else {
            throw JSONParsingError(code: "invalid-utf8", message: "the text is not valid UTF-8", offset: p)
        }
        for k in 1..<length {
            let b = bytes[p + k]
            guard b & 0xC0 == 0x80 else {
                throw JSONParsingError(code: "invalid-utf8", message: "the text is not valid UTF-8", offset: p)
            }
            v = v << 6 | UInt32(b & 0x3F)
        }
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard v >= minimum, let scalar = Unicode.Scalar(v) else {
            throw JSONParsingError(code: "invalid-utf8", message: "the text is not valid UTF-8", offset: p)
        }
        return (scalar, length)
    }
}
