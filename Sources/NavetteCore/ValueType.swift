/// The type of a field's values (or of a set's elements, a map's keys or
/// entries), with the limits local input must respect.
public indirect enum ValueType: Hashable, Sendable {
    /// A string of at most `maxLength` characters, without control
    /// characters other than line breaks and tabs.
    case string(maxLength: Int)
    /// An integer within `range`.
    case int(ClosedRange<Int64>)
    case bool
    /// A calendar date, `YYYY-MM-DD`.
    case date
    /// A date and time with its UTC offset, `YYYY-MM-DDThh:mm[:ss]±hh:mm` or `…Z`.
    case dateTime
    /// One of the listed strings.
    case oneOf([String])
    /// The id of a record of `collection`.
    case reference(String)
    /// A ROME job code, a letter and four digits (`M1607`).
    case romeCode
    /// A skill, `ROME:<version>:<skill code>` (`ROME:347:100381`).
    case skillKey
    /// An object with the listed members; `required` ones must be present,
    /// no others may be.
    case object([Member])
    /// A list of at most `maxCount` values.
    case list(ValueType, maxCount: Int)

    /// A member of an object type.
    public struct Member: Hashable, Sendable {
        public var name: String
        public var type: ValueType
        public var isRequired: Bool
        public init(_ name: String, _ type: ValueType, required: Bool = false) {
            self.name = name
            self.type = type
            self.isRequired = required
        }
    }

    /// A short description of the type for help and errors.
    public var summary: String {
        switch self {
        case .string(let n): "text of at most \(n) characters"
        case .int(let r): "an integer from \(r.lowerBound) to \(r.upperBound)"
        case .bool: "true or false"
        case .date: "a date YYYY-MM-DD"
        case .dateTime: "a date and time like 2026-03-02T09:30+01:00"
        case .oneOf(let options): "one of " + options.joined(separator: ", ")
        case .reference(let c): "the id of a \(c)"
        case .romeCode: "a ROME code like M1607"
        case .skillKey: "a skill like ROME:347:100381"
        case .object(let members): "an object with " + members.map(\.name).joined(separator: ", ")
        case .list(let t, let n): "a list of at most \(n) values, each \(t.summary)"
        }
    }
}
