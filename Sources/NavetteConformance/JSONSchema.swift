import Foundation
import NavetteCore

/// The protocol's JSON Schemas (`Protocol/schemas/`), loaded from disk, and
/// a validator for the part of JSON Schema draft 2020-12 they use.
///
/// ```swift
/// let schemas = try ProtocolSchemas(directory: "Protocol/schemas")
/// let errors = schemas.validate(body, against: "push-request")   // [] when valid
/// ```
///
/// The validator refuses to guess: a schema keyword it does not implement
/// is reported as an error of the schema, so a schema edit can never make
/// validation silently weaker.
public struct ProtocolSchemas: Sendable {
    /// The schemas by file name without `.json` (`push-request`).
    public let documents: [String: JSONValue]
    /// Every `pattern` of the schemas, compiled once.
    let patterns: [String: NSRegularExpression]

    /// Keywords that only annotate.
    static let annotations: Set<String> = ["$schema", "$id", "$defs", "title", "description", "default", "examples"]

    /// Loads every `*.json` of `directory`.
    ///
    /// - Throws: when the directory cannot be read or a file is not JSON.
    public init(directory: String) throws {
        var documents: [String: JSONValue] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".json") {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))
            documents[String(name.dropLast(5))] = try JSONValue(parsing: Array(bytes))
        }
        self.documents = documents
        var patterns: [String: NSRegularExpression] = [:]
        func collect(_ v: JSONValue) {
            switch v {
            case .object(let o):
                if let p = o["pattern"]?.stringValue { patterns[p] = try? NSRegularExpression(pattern: p) }
                o.values.forEach(collect)
            case .array(let a): a.forEach(collect)
            default: break
            }
        }
        documents.values.forEach(collect)
        self.patterns = patterns
    }

    /// The names of the schemas.
    public var names: [String] { documents.keys.sorted() }

    /// Validates `value` against the schema `name`.
    ///
    /// - Returns: one line per violation, each with the JSON pointer of the
    ///   value that breaks it; empty when the value is valid.
    public func validate(_ value: JSONValue, against name: String) -> [String] {
        guard let root = documents[name] else { return ["no schema named \(name)"] }
        var errors: [String] = []
        check(value, root, root: root, at: "", errors: &errors)
        return errors
    }

    /// Validates a body's bytes (strictly parsed JSON).
    public func validate(body: [UInt8], against name: String) -> [String] {
        do {
            return validate(try JSONValue(parsing: body), against: name)
        } catch {
            return ["the body is not JSON: \(error)"]
        }
    }

    func resolve(_ ref: String, root: JSONValue) -> (schema: JSONValue, root: JSONValue)? {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var document = root
        if !parts[0].isEmpty {
            let file = parts[0].hasSuffix(".json") ? String(parts[0].dropLast(5)) : parts[0]
            guard let d = documents[(file as NSString).lastPathComponent] else { return nil }
            document = d
        }
        var target = document
        if parts.count == 2, !parts[1].isEmpty {
            for token in parts[1].split(separator: "/") {
                let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                guard let next = target[key] else { return nil }
                target = next
            }
        }
        return (target, document)
    }

    func check(_ value: JSONValue, _ schema: JSONValue, root: JSONValue, at path: String, errors: inout [String]) {
        func fail(_ message: String) { errors.append("\(path.isEmpty ? "/" : path): \(message)") }
        switch schema {
        case .bool(true): return
        case .bool(false): return fail("no value is allowed here")
        case .object: break
        default: return fail("the schema is neither an object nor a Boolean")
        }
        let s = schema.objectValue!
        for (keyword, rule) in s.sorted(by: { $0.key < $1.key }) {
            switch keyword {
            case _ where Self.annotations.contains(keyword): continue
            case "$ref":
                guard let ref = rule.stringValue, let (target, targetRoot) = resolve(ref, root: root) else {
                    fail("the schema's $ref \(rule) cannot be resolved")
                    continue
                }
                check(value, target, root: targetRoot, at: path, errors: &errors)
            case "type":
                let names = rule.arrayValue?.compactMap(\.stringValue) ?? [rule.stringValue ?? ""]
                if !names.contains(where: { Self.hasType(value, $0) }) { fail("must be of type \(names.joined(separator: " or "))") }
            case "const":
                if value != rule { fail("must be \(rule.canonicalString)") }
            case "enum":
                if !(rule.arrayValue ?? []).contains(value) { fail("must be one of the listed values") }
            case "properties":
                guard case .object(let members) = value, case .object(let properties) = rule else { continue }
                for (name, sub) in properties.sorted(by: { $0.key < $1.key }) {
                    if let v = members[name] { check(v, sub, root: root, at: path + "/" + name, errors: &errors) }
                }
            case "required":
                guard case .object(let members) = value else { continue }
                for name in rule.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                    fail("lacks the required member '\(name)'")
                }
            case "additionalProperties":
                guard case .object(let members) = value else { continue }
                let known = Set(s["properties"]?.objectValue?.keys.map { $0 } ?? [])
                for (name, v) in members.sorted(by: { $0.key < $1.key }) where !known.contains(name) {
                    if rule == .bool(false) {
                        fail("has the member '\(name)', which the schema does not define")
                    } else {
                        check(v, rule, root: root, at: path + "/" + name, errors: &errors)
                    }
                }
            case "propertyNames":
                guard case .object(let members) = value else { continue }
                for name in members.keys.sorted() { check(.string(name), rule, root: root, at: path + "/" + name, errors: &errors) }
            case "items":
                guard case .array(let items) = value else { continue }
                let start = s["prefixItems"]?.arrayValue?.count ?? 0
                for (i, item) in items.enumerated() where i >= start {
                    check(item, rule, root: root, at: path + "/\(i)", errors: &errors)
                }
            case "prefixItems":
                guard case .array(let items) = value else { continue }
                for (i, sub) in (rule.arrayValue ?? []).enumerated() where i < items.count {
                    check(items[i], sub, root: root, at: path + "/\(i)", errors: &errors)
                }
            case "minItems":
                if case .array(let a) = value, let n = rule.intValue, a.count < n { fail("must have at least \(n) items") }
            case "maxItems":
                if case .array(let a) = value, let n = rule.intValue, a.count > n { fail("must have at most \(n) items") }
            case "minLength":
                if case .string(let t) = value, let n = rule.intValue, t.unicodeScalars.count < n {
                    fail("must have at least \(n) characters")
                }
            case "maxLength":
                if case .string(let t) = value, let n = rule.intValue, t.unicodeScalars.count > n {
                    fail("must have at most \(n) characters")
                }
            case "pattern":
                if case .string(let t) = value, let p = rule.stringValue, !matches(t, p) { fail("must match \(p)") }
            case "minimum":
                if let v = value.intValue, let n = rule.intValue, v < n { fail("must be at least \(n)") }
            case "maximum":
                if let v = value.intValue, let n = rule.intValue, v > n { fail("must be at most \(n)") }
            case "allOf":
                for sub in rule.arrayValue ?? [] { check(value, sub, root: root, at: path, errors: &errors) }
            case "anyOf", "oneOf":
                let passing = (rule.arrayValue ?? []).filter { sub in
                    var e: [String] = []
                    check(value, sub, root: root, at: path, errors: &e)
                    return e.isEmpty
                }.count
                if keyword == "anyOf" ? passing == 0 : passing != 1 {
                    fail("must match \(keyword == "anyOf" ? "at least one" : "exactly one") of its alternatives (matches \(passing))")
                }
            case "not":
                var e: [String] = []
                check(value, rule, root: root, at: path, errors: &e)
                if e.isEmpty { fail("must not match a schema it matches") }
            case "if":
                var e: [String] = []
                check(value, rule, root: root, at: path, errors: &e)
                if let branch = e.isEmpty ? s["then"] : s["else"] { check(value, branch, root: root, at: path, errors: &errors) }
            case "then", "else": continue
            default:
                fail("the schema uses the keyword '\(keyword)', which this validator does not implement")
            }
        }
    }

    static func hasType(_ value: JSONValue, _ name: String) -> Bool {
        switch (name, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .int), ("number", .int), ("number", .number),
            ("string", .string), ("array", .array), ("object", .object):
            true
        default: false
        }
    }

    func matches(_ text: String, _ pattern: String) -> Bool {
        guard let regex = patterns[pattern] else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
