/// Why a sync stopped. Messages are for the counsellor: what happened and
/// what to do; never personal data.
public struct SyncError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case transport, untrustedResponse = "untrusted-response", refused, revoked, notEnrolled = "not-enrolled"
            case insecureURL = "insecure-url", clock
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The server could not be reached, or the connection broke: retry later.
        public static var transport: Self { Self(.transport) }
        /// An answer was not signed by the pinned server key, or not bound
        /// to the request: it was discarded.
        public static var untrustedResponse: Self { Self(.untrustedResponse) }
        /// The server refused the request with a signed problem.
        public static var refused: Self { Self(.refused) }
        /// The server revoked this node.
        public static var revoked: Self { Self(.revoked) }
        /// The node is not enrolled with a server.
        public static var notEnrolled: Self { Self(.notEnrolled) }
        /// The server URL is plain `http://` to a host that is not this machine.
        public static var insecureURL: Self { Self(.insecureURL) }
        /// The clock could not be agreed on with the server.
        public static var clock: Self { Self(.clock) }
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String
    /// For `refused`: the code of the server's problem type (`forbidden`, …).
    public var problem: String?
    /// For `refused`: the problem's `reason` member, when it has one
    /// (`cursor-expired` says `restored` or `compacted`).
    public var reason: String?
    /// The HTTP status of the server's answer, when the server answered;
    /// `nil` when the exchange failed below HTTP (no connection, or it broke).
    public var status: Int?

    public init(_ code: Code, _ message: String, problem: String? = nil, reason: String? = nil, status: Int? = nil) {
        self.code = code
        self.message = message
        self.problem = problem
        self.reason = reason
        self.status = status
    }

    public var description: String { message }

    /// Whether retrying later may succeed: the network, or a server error.
    public var isTransient: Bool { code == .transport }

    /// Whether the exchange failed below HTTP: the server could not be
    /// reached or the connection broke, with no answer from the server. A
    /// server that answered with an error (5xx, rate-limited) is busy: not this.
    public var isConnectionFailure: Bool { code == .transport && status == nil }
}
