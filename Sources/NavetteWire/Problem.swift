import NavetteCore

/// An RFC 9457 problem type: a stable code, its URI, and its HTTP status.
///
/// The URI is `urn:navette:problem:<code>`; `Protocol/` lists every type.
public struct ProblemType: Hashable, Sendable, CustomStringConvertible {
    public let code: String
    public let status: Int
    public let title: String

    init(_ code: String, _ status: Int, _ title: String) {
        self.code = code
        self.status = status
        self.title = title
    }

    /// The `type` member: `urn:navette:problem:<code>`.
    public var uri: String { "urn:navette:problem:" + code }
    public var description: String { code }

    public static let malformedRequest = ProblemType("malformed-request", 400, "The request is malformed")
    public static let malformedSignature = ProblemType("malformed-signature", 400, "The request's signature fields are malformed")
    public static let unauthorized = ProblemType("unauthorized", 401, "The request is not signed by an enrolled node")
    public static let digestMismatch = ProblemType("digest-mismatch", 401, "The body does not match its Content-Digest")
    public static let clockSkew = ProblemType("clock-skew", 401, "The request's creation time is outside the accepted window")
    public static let replay = ProblemType("replay", 401, "The request was already received")
    public static let nodeRevoked = ProblemType("node-revoked", 401, "This node was revoked")
    public static let forbidden = ProblemType("forbidden", 403, "The node may not do this")
    public static let enrolmentRefused = ProblemType("enrolment-refused", 403, "The enrolment code is not valid")
    public static let notFound = ProblemType("not-found", 404, "No such resource")
    public static let methodNotAllowed = ProblemType("method-not-allowed", 405, "This method is not allowed here")
    public static let cursorExpired = ProblemType("cursor-expired", 410, "The cursor is older than the server's history")
    public static let payloadTooLarge = ProblemType("payload-too-large", 413, "The body is larger than allowed")
    public static let unsupportedMediaType = ProblemType("unsupported-media-type", 415, "The body's media type is not accepted")
    public static let upgradeRequired = ProblemType("upgrade-required", 400, "This protocol or schema version is no longer accepted")
    public static let rateLimited = ProblemType("rate-limited", 429, "Too many requests")
    public static let headersTooLarge = ProblemType("headers-too-large", 431, "The request's header fields are too large")
    public static let internalError = ProblemType("internal-error", 500, "The server failed")

    /// Every problem type, for the spec and for clients.
    public static let all: [ProblemType] = [
        .malformedRequest, .malformedSignature, .unauthorized, .digestMismatch, .clockSkew, .replay, .nodeRevoked,
        .forbidden, .enrolmentRefused, .notFound, .methodNotAllowed, .cursorExpired, .payloadTooLarge,
        .unsupportedMediaType, .upgradeRequired, .rateLimited, .headersTooLarge, .internalError,
    ]

    /// The type with this code, if any.
    public static func code(_ code: String) -> ProblemType? { all.first { $0.code == code } }
}

/// An RFC 9457 problem details body (`application/problem+json`).
///
/// `detail` is for people and never holds personal data; extensions carry
/// what a client acts on (`serverTime` with `clock-skew`).
public struct Problem: Error, Hashable, Sendable, CustomStringConvertible {
    public var type: ProblemType
    public var detail: String?
    public var extensions: [String: JSONValue]

    public init(_ type: ProblemType, _ detail: String? = nil, extensions: [String: JSONValue] = [:]) {
        self.type = type
        self.detail = detail
        self.extensions = extensions
    }

    public static let mediaType = "application/problem+json"

    public var status: Int { type.status }

    public var jsonValue: JSONValue {
        var o = extensions
        o["type"] = .string(type.uri)
        o["title"] = .string(type.title)
        o["status"] = .int(Int64(type.status))
        if let detail { o["detail"] = .string(detail) }
        return .object(o)
    }

    /// The body: canonical JSON.
    public var body: [UInt8] { jsonValue.canonicalBytes }

    /// Reads a problem body; `nil` when it is not one of ours.
    public init?(body: [UInt8]) {
        guard let v = try? JSONValue(parsing: body, limits: .init(maximumBytes: 64 << 10)), case .object(var o) = v,
            let uri = o["type"]?.stringValue, uri.hasPrefix("urn:navette:problem:"),
            let type = ProblemType.code(String(uri.dropFirst("urn:navette:problem:".count)))
        else { return nil }
        self.type = type
        self.detail = o["detail"]?.stringValue
        for k in ["type", "title", "status", "detail"] { o[k] = nil }
        self.extensions = o
    }

    public var description: String { detail.map { "\(type.code): \($0)" } ?? type.code }
}
