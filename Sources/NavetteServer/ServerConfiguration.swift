import NavetteCore
import NavetteWire

/// How a sync server runs.
public struct ServerConfiguration: Sendable {
    /// The address to listen on.
    public var host: String
    /// The port; 0 picks a free one (tests).
    public var port: Int
    /// The authority nodes sign (`host[:port]`), when a proxy sits in front
    /// (`--public-url`). Otherwise the listening address is used. It is never
    /// taken from the request's `Host` or forwarding headers.
    public var publicAuthority: String?
    /// The largest request body accepted, in bytes.
    public var maximumBodyBytes: Int
    /// The largest total of request header fields accepted, in bytes.
    public var maximumHeaderBytes: Int
    /// How far in the past and the future a request's `created` may lie, in seconds.
    public var acceptedPast: Int64
    public var acceptedFuture: Int64
    /// How far ahead of the server's time a change may be stamped, in
    /// milliseconds, before it is refused as `change-from-future`.
    public var changeFromFutureBound: UInt64
    /// The most changes one pull returns.
    public var maximumPullChanges: Int
    /// The most requests one node may make per minute before `rate-limited`.
    public var requestsPerMinute: Int
    /// The server's wall clock, in milliseconds since 1970.
    public var wallClock: @Sendable () -> UInt64
    /// How many nodes' views the server keeps between pulls (each holds one
    /// entry per record the node may hold: about 350 for a counsellor).
    public var cachedViews = 2_000
    /// Faults a test plants to prove that a check can fail (the conformance
    /// tool's own test). Empty in every real deployment.
    public var plantedFaults: Set<PlantedFault> = []

    public init(
        host: String = "127.0.0.1", port: Int = 8080, publicAuthority: String? = nil,
        maximumBodyBytes: Int = MessageLimits.maximumBodyBytes, maximumHeaderBytes: Int = 16 << 10,
        acceptedPast: Int64 = 300, acceptedFuture: Int64 = 60,
        changeFromFutureBound: UInt64 = 2 * HybridLogicalClock.defaultMaximumDrift, maximumPullChanges: Int = 500,
        requestsPerMinute: Int = 600, wallClock: @escaping @Sendable () -> UInt64
    ) {
        self.host = host
        self.port = port
        self.publicAuthority = publicAuthority
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumHeaderBytes = maximumHeaderBytes
        self.acceptedPast = acceptedPast
        self.acceptedFuture = acceptedFuture
        self.changeFromFutureBound = changeFromFutureBound
        self.maximumPullChanges = maximumPullChanges
        self.requestsPerMinute = requestsPerMinute
        self.wallClock = wallClock
    }
}

/// A deliberate departure from the protocol, for tests that must see a
/// checker fail.
public enum PlantedFault: String, Hashable, Sendable, CaseIterable {
    /// Accept a `(keyid, nonce)` pair again (breaks SIG-007).
    case acceptReplayedNonces
}

/// A request as the server received it: the parts signatures cover, and
/// the body's bytes exactly as they arrived.
public struct IncomingRequest: Sendable {
    public var parts: RequestParts
    public var body: [UInt8]

    public init(parts: RequestParts, body: [UInt8]) {
        self.parts = parts
        self.body = body
    }
}

/// A response the server made, signed.
public struct OutgoingResponse: Sendable {
    public var parts: ResponseParts
    public var body: [UInt8]
}
