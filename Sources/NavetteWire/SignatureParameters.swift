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
    public func serialized(covering components: [CoveredComponent]) throws -> String {
        let list = InnerList(bareInnerList: BareInnerList(components.map(\.item)), parameters: structured)
        var serializer = StructuredFieldValueSerializer()
        return String(decoding: try serializer.writeListFieldValue([.innerList(list)]), as: UTF8.self)
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
