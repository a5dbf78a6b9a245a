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
    /// The server's records and change log.
    public let store: RecordStore
    /// Nodes, codes, replay cache, batches, audit.
    public let registry: ServerRegistry
    let signer: MessageSigner
    let cursorSecret: SymmetricKey
    /// Changes whenever the server's store is a new one (or restored).
    public let incarnation: String
    let logger: Logger
    let authority: Mutex<String>
    let rate: Mutex<[NodeID: (minute: UInt64, count: Int)]> = Mutex([:])
    let received = Mutex(0)
    /// The server's metrics (`GET /metrics`).
    public let metrics = ServerMetrics()

    /// Changes received in pushes since start, duplicates included: what the
    /// nodes sent, for tests and metrics.
    public var changesReceived: Int { received.withLock { $0 } }

    /// The server's signing key id.
    public var keyID: String { signer.keyID }
    /// The server's public key.
    public let publicKey: Curve25519.Signing.PublicKey

    /// Opens (or creates) the server's stores in `directory`.
    public convenience init(directory: String, configuration: ServerConfiguration, logger: Logger) throws {
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
        try self.init(store: store, registry: registry, configuration: configuration, logger: logger)
        // A store restored from a backup must not bring erased files back.
        let reerased = try reapplyErasureLedger()
        if reerased > 0 { logger.warning("erasure ledger re-applied", metadata: ["erasure.count": "\(reerased)"]) }
    }

    /// A server over given stores (in memory, for tests).
    public init(store: RecordStore, registry: ServerRegistry, configuration: ServerConfiguration, logger: Logger) throws {
        self.store = store
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: try registry.secret("signing-key"))
        self.publicKey = key.publicKey
        let keyID = "server-" + Base64URL.encode(Array(SHA256.hash(data: key.publicKey.rawRepresentation)).prefix(6))
        self.signer = MessageSigner(key: key, keyID: keyID)
        self.cursorSecret = SymmetricKey(data: try registry.secret("cursor-key"))
        self.incarnation = Base64URL.encode(try registry.secret("incarnation", bytes: 9))
        self.authority = Mutex(configuration.publicAuthority ?? "\(configuration.host):\(configuration.port)")
    }

    /// The identity of the server's own store.
    public static func identity(_ registry: ServerRegistry) throws -> NodeIdentity {
        let bytes = try registry.secret("node-id", bytes: 8)
        let id = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return NodeIdentity(node: NodeID(rawValue: id), name: "server", agency: "*")
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
            let pending = try registry.erasures().reduce(0) { $0 + (try registry.holders(of: $1.record).count) }
            return respond(200, try metrics.exposition(registry, erasuresPending: pending), contentType: "text/plain; version=0.0.4", to: p)
        case ("POST", "/v1/enrol"):
            return try enrol(request)
        case ("POST", "/v1/auth/challenge"):
            return try challenge(request)
        case (_, let path) where path.hasPrefix("/v1/admin/"):
            return try admin(request)
        case ("POST", "/v1/sync/push"):
            let node = try authenticate(request, hasBody: true)
            return try push(request, node: node)
        case ("GET", "/v1/sync/pull"):
            let node = try authenticate(request, hasBody: false)
            return try pull(request, node: node)
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
