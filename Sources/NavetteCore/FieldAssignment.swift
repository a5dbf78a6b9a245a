/// A `FIELD=VALUE` argument, parsed against the schema into an ``Edit``.
///
/// | form | meaning |
/// |---|---|
/// | `field=value` | set a register, text, write-once value or flag |
/// | `field=` | clear a register or text |
/// | `field+=value` | add to a set, append to a log, add to a counter |
/// | `field-=value` | remove from a set or map, subtract from a counter |
/// | `field[key]=value` | set a map entry (JSON object, or one scalar) |
/// | `field[key].member=value` | change one member of a map entry |
///
/// Values are read by the field's type: text as typed, integers, `true` or
/// `false`, and JSON (`{…}` or `[…]`) for objects and lists.
public struct FieldAssignment: Hashable, Sendable {
    public enum Form: Hashable, Sendable { case set, add, remove }

    /// Why an argument was refused: names the field and the rule, never the
    /// value typed (it may be personal).
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public var field: String
    public var key: String?
    public var member: String?
    public var form: Form
    public var text: String

    /// Parses the syntax only.
    ///
    /// - Throws: ``Failure``.
    public init(_ argument: String) throws {
        guard let eq = argument.firstIndex(of: "=") else {
            // The argument itself is not echoed: it may be a personal value typed without its field.
            throw Failure("an argument is not FIELD=VALUE (it has no '='); write for example contact.phone=0612345678")
        }
        var lhs = String(argument[..<eq])
        text = String(argument[argument.index(after: eq)...])
        form = .set
        if lhs.hasSuffix("+") {
            form = .add
            lhs.removeLast()
        } else if lhs.hasSuffix("-") {
            form = .remove
            lhs.removeLast()
        }
        if let open = lhs.firstIndex(of: "["), let close = lhs.lastIndex(of: "]"), open < close {
            field = String(lhs[..<open])
            key = String(lhs[lhs.index(after: open)..<close])
            let rest = lhs[lhs.index(after: close)...]
            if rest.hasPrefix(".") {
                member = String(rest.dropFirst())
            } else if !rest.isEmpty {
                throw Failure("'\(lhs)' is not a field name; write field[key] or field[key].member")
            }
        } else {
            field = lhs
        }
        guard !field.isEmpty else { throw Failure("an assignment lacks its field name before '='") }
    }

    /// The edit, checked against the field's kind. A member edit keeps the
    /// entry's other members, from an `earlier` edit of the same command or
    /// else from `state`.
    ///
    /// - Throws: ``Failure``.
    public func edit(in collection: CollectionSpec, state: RecordState, earlier: [Edit] = []) throws -> Edit {
        guard let spec = collection.field(field) else {
            throw Failure(
                "\(collection.name) has no field '\(field)'; 'navette schema \(collection.name)' lists its fields")
        }
        switch (spec.kind, form, key) {
        case (.lww, .set, nil), (.text, .set, nil):
            return text.isEmpty ? .clear(field) : .set(field, try parse(text, as: spec.type))
        case (.writeOnce, .set, nil):
            return .set(field, try parse(text, as: spec.type))
        case (.enableWins, .set, nil), (.disableWins, .set, nil):
            return .set(field, try parse(text, as: .bool))
        case (.awSet, .add, nil):
            return .add(field, element: text)
        case (.awSet, .remove, nil), (.awMap, .remove, nil):
            return spec.kind == .awSet ? .removeElement(field, element: text) : .removeEntry(field, key: text)
        case (.counter, .add, nil), (.counter, .remove, nil):
            guard let n = Int64(text) else { throw Failure("\(field): '+=' and '-=' take a whole number") }
            return .increment(field, by: form == .add ? n : -n)
        case (.log, .add, nil):
            return .append(field, try parse(text, as: spec.type))
        case (.awMap, .set, let key?):
            let entryType = spec.entryKind == .lww ? spec.type : .bool
            guard let member else { return .put(field, key: key, try parse(text, as: entryType)) }
            guard case .object(let members) = entryType, let m = members.first(where: { $0.name == member }) else {
                throw Failure("\(field) entries have no member '\(member)'")
            }
            var entry: [String: JSONValue] = [:]
            if let previous = earlier.last(where: { if case .put(field, key, _) = $0 { true } else { false } }),
                case .put(_, _, let v) = previous
            {
                entry = v.objectValue ?? [:]
            } else if case .map(let entries) = state.view(of: spec), case .register(let current?, _) = entries[key] {
                entry = current.value.objectValue ?? [:]
            }
            entry[member] = try parse(text, as: m.type)
            return .put(field, key: key, .object(entry))
        default:
            throw Failure(Self.usage(spec))
        }
    }

    /// How a field of this kind is written, for errors.
    static func usage(_ spec: FieldSpec) -> String {
        let n = spec.name
        switch spec.kind {
        case .lww, .text, .writeOnce: return "\(n) is a single value: write \(n)=VALUE (or \(n)= to clear it)"
        case .enableWins, .disableWins: return "\(n) is a flag: write \(n)=true or \(n)=false"
        case .awSet: return "\(n) is a set: write \(n)+=VALUE to add or \(n)-=VALUE to remove"
        case .awMap: return "\(n) is a map: write \(n)[KEY]=VALUE, \(n)[KEY].MEMBER=VALUE, or \(n)-=KEY to remove"
        case .counter: return "\(n) is a counter: write \(n)+=N or \(n)-=N"
        case .log: return "\(n) is a log: write \(n)+=VALUE to append an entry"
        }
    }

    /// Reads `text` as a value of `type`.
    func parse(_ text: String, as type: ValueType) throws -> JSONValue {
        switch type {
        case .int:
            guard let n = Int64(text) else { throw Failure("\(field): expected a whole number") }
            return .int(n)
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "1": return .bool(true)
            case "false", "no", "0": return .bool(false)
            default: throw Failure("\(field): expected true or false")
            }
        case .object, .list:
            do {
                return try JSONValue(parsing: text, limits: .init(maximumDepth: 8, maximumBytes: 64 << 10))
            } catch let e as JSONParsingError {
                throw Failure("\(field): expected JSON (\(type.summary)); \(e.message)")
            }
        default:
            return .string(text)
        }
    }
}
