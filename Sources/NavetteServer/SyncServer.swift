import Crypto
import Foundation
import Logging
import NavetteCore
import NavetteStore
import NavetteWire
import Synchronization

/// The sync server's application: routes a received request, verifies it,
/// acts on the store, and signs every answer — errors included.
///
/// It knows nothing of the HTTP library: ``HTTPServer`` feeds it
/// ``IncomingRequest``s, and tests may too.
///
/// ```swift
/// let server = try SyncServer(directory: dataDir, configuration: config, logger: logger)
/// let response = await server.handle(request)   // signed
/// ```
public final class SyncServer: Sendable {
    public let configuration: ServerConfiguration
    /// The server's records, change log and view indexes (SQLite or
    /// PostgreSQL).
    public let records: any ServerRecords
    /// Nodes, codes, replay cache, batches, views held, erasure ledger,
    /// audit: what every server process on one database shares.
    public let shared: any SharedRegistry
    let signer: MessageSigner
    let cursorSecret: SymmetricKey
    /// Changes whenever the server's store is a new one (or restored).
    public let incarnation: String
    let logger: Logger
    let authority: Mutex<String>
    let rate: Mutex<[NodeID: (minute: UInt64, count: Int)]> = Mutex([:])
    let received = Mutex(0)
    /// Nodes' views, each with the spec and view generation it was computed at.
    let views = Mutex(ViewCache())
    /// The server's metrics (`GET /metrics`).
    public let metrics = ServerMetrics()

    /// Changes received in pushes since start, duplicates included: what the
    /// nodes sent, for tests and metrics.
    public var changesReceived: Int { received.withLock { $0 } }

    /// The server's signing key id.
    public var keyID: String { signer.keyID }
    /// The server's public key.
    public let publicKey: Curve25519.Signing.PublicKey

    /// Opens (or creates) the server's embedded SQLite stores in `directory`,
    /// and readies them (see ``start(records:registry:configuration:logger:)``).
    public static func open(directory: String, configuration: ServerConfiguration, logger: Logger) async throws -> SyncServer {
        let registry = try ServerRegistry.open(directory: directory)
        let storePath = RecordStore.storePath(directory: directory)
        let config = RecordStore.Configuration(wallClock: configuration.wallClock)
        let store: RecordStore
        if FileManager.default.fileExists(atPath: storePath) {
            store = try RecordStore.open(directory: directory, configuration: config)
        } else {
            store = try RecordStore.create(
                directory: directory, identity: try Self.identity(registry), configuration: config)
        }
        return try await start(records: store, registry: registry, configuration: configuration, logger: logger)
    }

    /// A server over given storage, readied for service:
    ///
    /// - the records get what serving needs and a node's store lacks
    ///   (``ServerRecords/readyForServing()``);
    /// - a record store whose log ends before the last push acknowledged
    ///   (restored from an older backup, the registry kept) gets a new
    ///   incarnation, so that every node re-pulls and re-pushes what it lost;
    /// - the erasure ledger is re-applied, so that a restored store never
    ///   brings an erased person back.
    public static func start(
        records: any ServerRecords, registry: any SharedRegistry, configuration: ServerConfiguration, logger: Logger
    ) async throws -> SyncServer {
        try await records.readyForServing()
        let highWater = try await registry.logHighWater()
        let last = try await records.lastSequence()
        if last < highWater {
            try await registry.setSecret("incarnation", Self.newIncarnation())
            try await registry.audit(
                actor: "server", action: "incarnation-renewed",
                target: "store log ends at \(last), before the acknowledged \(highWater)", at: configuration.wallClock())
            logger.warning("store restored from an older backup: new incarnation", metadata: ["store.last": "\(last)", "store.acknowledged": "\(highWater)"])
        }
        let server = try SyncServer(
            records: records, registry: registry, configuration: configuration, logger: logger,
            signingKey: try await registry.secret("signing-key", bytes: 32),
            cursorKey: try await registry.secret("cursor-key", bytes: 32),
            incarnation: try await registry.secret("incarnation", bytes: 9))
        let reerased = try await server.reapplyErasureLedger()
        if reerased > 0 { logger.warning("erasure ledger re-applied", metadata: ["erasure.count": "\(reerased)"]) }
        return server
    }

    /// A server over given SQLite stores (in memory, for tests), as they
    /// are but for what serving needs (``ServerRecords/readyForServing()``).
    public convenience init(store: RecordStore, registry: ServerRegistry, configuration: ServerConfiguration, logger: Logger) throws {
        try store.readyForServing()
        try self.init(
            records: store, registry: registry, configuration: configuration, logger: logger,
            signingKey: try registry.secret("signing-key"), cursorKey: try registry.secret("cursor-key"),
            incarnation: try registry.secret("incarnation", bytes: 9))
    }

    init(
        records: any ServerRecords, registry: any SharedRegistry, configuration: ServerConfiguration, logger: Logger,
        signingKey: [UInt8], cursorKey: [UInt8], incarnation: [UInt8]
    ) throws {
        self.records = records
        self.shared = registry
        self.configuration = configuration
        self.logger = logger
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: signingKey)
        self.publicKey = key.publicKey
        let keyID = "server-" + Base64URL.encode(Array(SHA256.hash(data: key.publicKey.rawRepresentation)).prefix(6))
        self.signer = MessageSigner(key: key, keyID: keyID)
        self.cursorSecret = SymmetricKey(data: cursorKey)
        self.incarnation = Base64URL.encode(incarnation)
        self.authority = Mutex(configuration.publicAuthority ?? "\(configuration.host):\(configuration.port)")
    }

    /// 9 random bytes: a store's incarnation.
    public static func newIncarnation() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<9).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// The identity of the server's own store.
    public static func identity(_ registry: ServerRegistry) throws -> NodeIdentity {
        let secret = ServerRegistry.serverNodeSecret
        return NodeIdentity(
            node: ServerRegistry.serverNodeID(secret: try registry.secret(secret.name, bytes: secret.bytes)), name: "server", agency: "*")
    }

    /// The authority requests must be signed for.
    public var expectedAuthority: String { authority.withLock { $0 } }

    /// Sets the authority once the listening port is known (port 0), or
    /// to a proxy's in front of it; a configured public authority wins.
    public func setAuthority(_ value: String) {
        guard configuration.publicAuthority == nil else { return }
        authority.withLock { $0 = value.lowercased() }
    }

    /// The server's key document.
    public var keys: ServerKeysDocument {
        ServerKeysDocument(keys: [ServerKey(keyID: keyID, publicKey: Base64URL.encode(publicKey.rawRepresentation))])
    }

    var nowMillis: UInt64 { configuration.wallClock() }

    // MARK: - Routing

    /// Answers one request. Never throws: every failure is a signed problem.
    public func handle(_ request: IncomingRequest) async -> OutgoingResponse {
        var parts = request.parts
        // The authority signed is the one this server serves, never the Host header.
        parts.authority = expectedAuthority
        do {
            return try await route(IncomingRequest(parts: parts, body: request.body))
        } catch let problem as Problem {
            metrics.problem(problem.type.code)
            return respond(problem, to: parts)
        } catch {
            logger.error("request failed", metadata: ["error.type": "\(type(of: error))"])
            return respond(Problem(.internalError), to: parts)
        }
    }

    func route(_ request: IncomingRequest) async throws -> OutgoingResponse {
        let p = request.parts
        let headerBytes = p.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        guard headerBytes <= configuration.maximumHeaderBytes else { throw Problem(.headersTooLarge) }
        guard request.body.count <= configuration.maximumBodyBytes else { throw Problem(.payloadTooLarge) }
        switch (p.method, p.path) {
        case ("GET", "/v1/health"):
            return respond(200, JSONValue.object(["status": "ok", "incarnation": .string(incarnation)]).canonicalBytes, to: p)
        case ("GET", "/v1/server-keys"):
            return respond(200, keys.body, to: p)
        case ("GET", "/metrics"):
            var pending = 0
            for erasure in try await shared.erasures() { pending += try await shared.holders(of: erasure.record).count }
            return respond(
                200, metrics.exposition(try await shared.nodes(), erasuresPending: pending), contentType: "text/plain; version=0.0.4",
                to: p)
        case ("POST", "/v1/enrol"):
            return try await enrol(request)
        case ("POST", "/v1/auth/challenge"):
            return try await challenge(request)
        case (_, let path) where path.hasPrefix("/v1/admin/"):
            return try await admin(request)
        case ("POST", "/v1/sync/push"):
            let node = try await authenticate(request, hasBody: true)
            return try await push(request, node: node)
        case ("GET", "/v1/sync/pull"):
            let node = try await authenticate(request, hasBody: false)
            return try await pull(request, node: node)
        case (_, "/v1/health"), (_, "/v1/server-keys"), (_, "/v1/enrol"), (_, "/v1/sync/push"), (_, "/v1/sync/pull"),
            (_, "/v1/auth/challenge"):
            throw Problem(.methodNotAllowed)
        default:
            throw Problem(.notFound)
        }
    }

    // MARK: - Responses

    /// Signs a response, bound to the request it answers.
    func respond(_ status: Int, _ plainBody: [UInt8], contentType: String = "application/json", to request: RequestParts)
        -> OutgoingResponse
    {
        var parts = ResponseParts(status: status, headers: [HeaderField("content-type", contentType)])
        var body = plainBody
        let acceptsGzip = request.values("accept-encoding").contains { $0.lowercased().contains(BodyEncoding.gzip) }
        if acceptsGzip, let compressed = BodyEncoding.compress(plainBody) {
            body = compressed
            parts.headers.append(HeaderField("content-encoding", BodyEncoding.gzip))
        }
        // A request whose signature fields are unusable is answered with a
        // signature over what can be read of it.
        var bound = request
        let inputs = bound.values("signature-input")
        if inputs.count != 1 || inputs[0].contains(where: { $0 == "\r" || $0 == "\n" }) {
            bound.headers.removeAll { $0.name == "signature-input" }
        }
        do {
            try signer.sign(
                &parts, body: body, answering: bound, created: Int64(nowMillis / 1000), nonce: Base64URL.nonce())
        } catch {
            // The request's target itself is unusable (a line break in it):
            // answer unsigned, as a transport-level failure.
            logger.notice("answer left unsigned", metadata: ["error.type": "\(type(of: error))"])
            parts.headers.removeAll { $0.name == "signature-input" || $0.name == "signature" }
        }
        return OutgoingResponse(parts: parts, body: body)
    }

    /// The body of an authenticated request, inflated if it travelled
    /// compressed (its digest was checked over the bytes as received).
    func decodedBody(_ request: IncomingRequest) throws -> [UInt8] {
        do {
            return try BodyEncoding.decode(
                request.body, encodings: request.parts.values("content-encoding"),
                maximumBytes: configuration.maximumBodyBytes * 4)
        } catch let e as BodyEncoding.Failure {
            throw Problem(.unsupportedMediaType, e.description)
        }
    }

    func respond(_ problem: Problem, to request: RequestParts) -> OutgoingResponse {
        respond(problem.status, problem.body, contentType: Problem.mediaType, to: request)
    }
}

/// A view computed for a node, and when it was last used.
struct CachedView: Sendable {
    var spec: ViewSpec
    var generation: Int64
    var view: [RecordRef: Bool]
    var used: UInt64
}

/// The views the server keeps, least recently used evicted first.
struct ViewCache: Sendable {
    var entries: [NodeID: CachedView] = [:]
    var tick: UInt64 = 0
}
