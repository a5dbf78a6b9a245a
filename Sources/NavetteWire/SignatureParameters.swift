import RawStructuredFieldValues

/// A component a signature covers: a derived component (`@method`,
/// `@authority`, `@path`, `@query`, `@status`) or a header field, taken from
/// the request when `fromRequest` is set (`;req`, in response signatures).
public struct CoveredComponent: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var fromRequest: Bool

    public init(_ name: String, fromRequest: Bool = false) {
        self.name = name.hasPrefix("@") ? name : name.lowercased()
        self.fromRequest = fromRequest
    }

    public var isDerived: Bool { name.hasPrefix("@") }

    public var description: String { "\"\(name)\"" + (fromRequest ? ";req" : "") }

    var item: Item {
        var params = OrderedMap<String, RFC9651BareItem>()
        if fromRequest { params["req"] = .bool(true) }
        return Item(bareItem: .string(name), parameters: params)
    }
}

/// The parameters of a signature, in the order they are serialized.
///
/// ```swift
/// var p = SignatureParameters()
/// p.created = 1618884473
/// p.keyID = "test-key-ed25519"
/// p.serialized(covering: [...])  // ("date" …);created=1618884473;keyid="test-key-ed25519"
/// ```
public struct SignatureParameters: Hashable, Sendable {
    public var created: Int64?
    public var expires: Int64?
    public var nonce: String?
    public var keyID: String?
    public var algorithm: String?
    public var tag: String?
    /// The order the parameters are serialized in, as received; empty means
    /// Navette's order (created, keyid, alg, nonce, tag, expires).
    public var order: [String] = []

    public init(
        created: Int64? = nil, keyID: String? = nil, algorithm: String? = nil, nonce: String? = nil,
        tag: String? = nil, expires: Int64? = nil
    ) {
        self.created = created
        self.keyID = keyID
        self.algorithm = algorithm
        self.nonce = nonce
        self.tag = tag
        self.expires = expires
    }

    /// The Navette order: created, keyid, alg, nonce, tag, then expires.
    var orderedNames: [String] {
        let known = ["created", "keyid", "alg", "nonce", "tag", "expires"]
        return order.isEmpty ? known : order
    }

    var structured: OrderedMap<String, RFC9651BareItem> {
        var m = OrderedMap<String, RFC9651BareItem>()
        for name in orderedNames {
            switch name {
            case "created": if let created { m["created"] = .integer(created) }
            case "expires": if let expires { m["expires"] = .integer(expires) }
            case "nonce": if let nonce { m["nonce"] = .string(nonce) }
            case "keyid": if let keyID { m["keyid"] = .string(keyID) }
            case "alg": if let algorithm { m["alg"] = .string(algorithm) }
            case "tag": if let tag { m["tag"] = .string(tag) }
            default: break
            }
        }
        return m
    }

    /// The inner list of `components` with these parameters, serialized as
    /// RFC 8941 requires: the `@signature-params` value and the member of
    /// `Signature-Input`.
    ///
    /// - Throws: when a component or parameter cannot be carried by
    ///   RFC 8941 (a string that is not printable ASCII, an integer of more
    ///   than 15 digits).
    public func serialized(covering components: [CoveredComponent]) throws -> String {
        if let text = written(covering: components) { return text }
        return try serializedByLibrary(covering: components)
    }

    /// The RFC 8941 serializer's bytes, through the serializer itself (the
    /// tests compare it with ``written(covering:)``).
    func serializedByLibrary(covering components: [CoveredComponent]) throws -> String {
        let list = InnerList(bareInnerList: BareInnerList(components.map(\.item)), parameters: structured)
        var serializer = StructuredFieldValueSerializer()
        return String(decoding: try serializer.writeListFieldValue([.innerList(list)]), as: UTF8.self)
    }

    /// The same bytes as the RFC 8941 serializer, written directly: signers
    /// write this on every message, twice. `nil` when a string is not
    /// printable ASCII, an integer is out of RFC 8941's range or `order`
    /// names a parameter twice, so that the serializer decides (and throws).
    func written(covering components: [CoveredComponent]) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(64 + 24 * components.count)
        out.append(UInt8(ascii: "("))
        for (n, c) in components.enumerated() {
            if n > 0 { out.append(UInt8(ascii: " ")) }
            guard Self.write(string: c.name, to: &out) else { return nil }
            if c.fromRequest { out += Array(";req".utf8) }
        }
        out.append(UInt8(ascii: ")"))
        let names = orderedNames
        for (n, name) in names.enumerated() where names[..<n].contains(name) { return nil }
        for name in names {
            switch name {
            case "created": if let created { guard Self.write(name, integer: created, to: &out) else { return nil } }
            case "expires": if let expires { guard Self.write(name, integer: expires, to: &out) else { return nil } }
            case "nonce": if let nonce { guard Self.write(name, string: nonce, to: &out) else { return nil } }
            case "keyid": if let keyID { guard Self.write(name, string: keyID, to: &out) else { return nil } }
            case "alg": if let algorithm { guard Self.write(name, string: algorithm, to: &out) else { return nil } }
            case "tag": if let tag { guard Self.write(name, string: tag, to: &out) else { return nil } }
            default: break
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `"…"` with `\` and `"` escaped; `false` for bytes outside %x20-7E.
    static func write(string: String, to out: inout [UInt8]) -> Bool {
        out.append(UInt8(ascii: "\""))
        for c in string.utf8 {
            guard c >= 0x20, c < 0x7F else { return false }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(c)
        }
        out.append(UInt8(ascii: "\""))
        return true
    }

    static func write(_ name: String, string: String, to out: inout [UInt8]) -> Bool {
        out.append(UInt8(ascii: ";"))
        out += Array(name.utf8)
        out.append(UInt8(ascii: "="))
        return write(string: string, to: &out)
    }

    static func write(_ name: String, integer: Int64, to out: inout [UInt8]) -> Bool {
        guard (-999_999_999_999_999...999_999_999_999_999).contains(integer) else { return false }
        out.append(UInt8(ascii: ";"))
        out += Array(name.utf8)
        out.append(UInt8(ascii: "="))
        out += Array(String(integer).utf8)
        return true
    }

    /// Reads the parameters of a received inner list.
    ///
    /// - Throws: ``SignatureError`` `malformedSignature` for a parameter of
    ///   the wrong type.
    init(_ params: OrderedMap<String, RFC9651BareItem>) throws {
        for (name, value) in params {
            order.append(name)
            func string() throws -> String {
                guard case .string(let s) = value else {
                    throw SignatureError(.malformedSignature, "the signature parameter '\(name)' must be a string")
                }
                return s
            }
            func integer() throws -> Int64 {
                guard case .integer(let i) = value else {
                    throw SignatureError(.malformedSignature, "the signature parameter '\(name)' must be an integer")
                }
                return i
            }
            switch name {
            case "created": created = try integer()
            case "expires": expires = try integer()
            case "nonce": nonce = try string()
            case "keyid": keyID = try string()
            case "alg": algorithm = try string()
            case "tag": tag = try string()
            default:
                throw SignatureError(.malformedSignature, "the signature parameter '\(name)' is not part of the profile")
            }
        }
    }
}

extension BareInnerList {
    init(_ items: [Item]) {
        self.init()
        for i in items { append(i) }
    }
}
