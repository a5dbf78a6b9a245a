/// Why local input was refused: which field, which rule, and what is wrong
/// with the value — never the value itself, which may be personal.
///
/// ```swift
/// ValidationError(field: "contact.email", rule: "text of at most 254 characters",
///                 problem: "it has 300 characters")
/// // contact.email: it has 300 characters (expected text of at most 254 characters)
/// ```
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The field, dotted, with the key in brackets for a map entry.
    public var field: String
    /// The rule the value breaks.
    public var rule: String
    /// What is wrong, without quoting the value.
    public var problem: String

    public init(field: String, rule: String, problem: String) {
        self.field = field
        self.rule = rule
        self.problem = problem
    }

    public var description: String { "\(field): \(problem) (expected \(rule))" }
}

extension ValueType {
    /// Checks `value` against this type.
    ///
    /// - Returns: what is wrong, in words that never quote the value, or
    ///   `nil` when the value is valid.
    public func problem(with value: JSONValue) -> String? {
        switch self {
        case .string(let maxLength):
            guard let s = value.stringValue else { return "it is not text" }
            let count = s.count
            if count > maxLength { return "it has \(count) characters" }
            if s.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" }) {
                return "it contains a control character"
            }
            return nil
        case .int(let range):
            guard let i = value.intValue else { return "it is not an integer" }
            return range.contains(i) ? nil : "it is out of range"
        case .bool:
            return value.boolValue == nil ? "it is not true or false" : nil
        case .date:
            guard let s = value.stringValue else { return "it is not text" }
            return DateText.isValidDate(s) ? nil : "it is not a valid date"
        case .dateTime:
            guard let s = value.stringValue else { return "it is not text" }
            return DateText.isValidDateTime(s) ? nil : "it is not a valid date and time with a UTC offset"
        case .oneOf(let options):
            guard let s = value.stringValue else { return "it is not text" }
            return options.contains(s) ? nil : "it is not one of the allowed values"
        case .reference:
            guard let s = value.stringValue else { return "it is not text" }
            return RecordKeys.isValidID(s) ? nil : "it is not a record id"
        case .romeCode:
            guard let s = value.stringValue else { return "it is not text" }
            return Rome.isValidCode(s) ? nil : "it is not a ROME code"
        case .skillKey:
            guard let s = value.stringValue else { return "it is not text" }
            return Rome.SkillKey(s) == nil ? "it is not a skill key" : nil
        case .object(let members):
            guard case .object(let o) = value else { return "it is not an object" }
            for m in members where m.isRequired && o[m.name] == nil {
                return "it lacks the member '\(m.name)'"
            }
            for (name, v) in o.sorted(by: { JSONValue.utf8Less($0.key, $1.key) }) {
                guard let m = members.first(where: { $0.name == name }) else {
                    return "it has an unknown member '\(name)'"
                }
                if v == .null, !m.isRequired { continue }
                if let p = m.type.problem(with: v) { return "member '\(name)': \(p)" }
            }
            return nil
        case .list(let element, let maxCount):
            guard case .array(let a) = value else { return "it is not a list" }
            if a.count > maxCount { return "it has \(a.count) items" }
            for (i, v) in a.enumerated() {
                if let p = element.problem(with: v) { return "item \(i + 1): \(p)" }
            }
            return nil
        }
    }
}

/// Checks of ISO 8601 dates, written without Foundation (Core reads no
/// clock and needs no calendar).
enum DateText {
    static func digits(_ s: Substring.UTF8View.SubSequence) -> Int? {
        guard !s.isEmpty, s.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(String(decoding: s, as: UTF8.self))
    }

    static func isValidDate(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D else { return false }
        let t = Substring(s).utf8
        guard let y = digits(t.prefix(4)), let m = digits(t.dropFirst(5).prefix(2)),
            let d = digits(t.dropFirst(8).prefix(2))
        else { return false }
        guard y >= 1900, y <= 2200, (1...12).contains(m) else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return (1...days).contains(d)
    }

    static func isValidDateTime(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 17, isValidDate(String(decoding: u[0..<10], as: UTF8.self)), u[10] == 0x54 else {
            return false
        }
        var rest = Substring(String(decoding: u[11...], as: UTF8.self))
        func two(_ r: inout Substring, max: Int) -> Bool {
            guard let v = digits(r.utf8.prefix(2)), r.utf8.count >= 2, v <= max else { return false }
            r = r.dropFirst(2)
            return true
        }
        guard two(&rest, max: 23), rest.first == ":" else { return false }
        rest = rest.dropFirst()
        guard two(&rest, max: 59) else { return false }
        if rest.first == ":" {
            rest = rest.dropFirst()
            guard two(&rest, max: 59) else { return false }
        }
        if rest == "Z" { return true }
        guard let sign = rest.first, sign == "+" || sign == "-" else { return false }
        rest = rest.dropFirst()
        guard two(&rest, max: 14), rest.first == ":" else { return false }
        rest = rest.dropFirst()
        guard two(&rest, max: 59) else { return false }
        return rest.isEmpty
    }
}
