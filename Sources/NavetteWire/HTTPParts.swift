/// A header field as received or sent: a lowercase name and its value.
public struct HeaderField: Hashable, Sendable {
    public var name: String
    public var value: String

    /// Creates a field; the name is lowercased.
    public init(_ name: String, _ value: String) {
        self.name = name.lowercased()
        self.value = value
    }
}

/// The parts of an HTTP request that a signature can cover.
///
/// Built by the server from the request it received (with the authority it
/// is configured to serve, never one taken from forwarding headers) and by
/// the client from the request it is about to send.
public struct RequestParts: Hashable, Sendable {
    /// The method, as sent (`POST`).
    public var method: String
    /// The host, and the port when it is not the scheme's default, lowercase.
    public var authority: String
    /// The absolute path (`/v1/sync/pull`).
    public var path: String
    /// The query without its `?`, or `nil` when there is none.
    public var query: String?
    /// Every header field line, in order; a name may repeat.
    public var headers: [HeaderField]

    public init(method: String, authority: String, path: String, query: String? = nil, headers: [HeaderField] = []) {
        self.method = method
        self.authority = authority.lowercased()
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
    }

    /// The values of the header lines named `name`.
    public func values(_ name: String) -> [String] {
        let n = name.lowercased()
        return headers.filter { $0.name == n }.map(\.value)
    }
}

/// The parts of an HTTP response that a signature can cover.
public struct ResponseParts: Hashable, Sendable {
    public var status: Int
    public var headers: [HeaderField]

    public init(status: Int, headers: [HeaderField] = []) {
        self.status = status
        self.headers = headers
    }

    /// The values of the header lines named `name`.
    public func values(_ name: String) -> [String] {
        let n = name.lowercased()
        return headers.filter { $0.name == n }.map(\.value)
    }
}
