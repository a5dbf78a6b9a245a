import Crypto
import Foundation
import Logging
import NavetteClient
import NavetteConformance
import NavetteCore
import NavettePostgres
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import ServiceLifecycle
import Synchronization
import Testing

/// Log lines captured from the server and clients, to check that none
/// carries personal data.
final class CapturedLogs: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }

    func logger(_ label: String) -> Logger {
        Logger(label: label) { _ in CapturingHandler(sink: self) }
    }
}

struct CapturingHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.lines.withLock { $0.append("\(event.level) \(event.message) \(all.sorted { $0.key < $1.key })") }
    }
}

/// Personal values the sync tests write into records: none may reach a log.
let personalCanaries = ["Moreau", "Inès", "Canarylastname", "Qzxwvrevoked", "1987-06-05", "0611", "0122", "Lyon", "Paris"]

/// A sync server listening on 127.0.0.1 on a free port, over real HTTP.
struct TestServer {
    let server: SyncServer
    let url: String
    let clock: ManualClock
    let logs: CapturedLogs

    /// Issues an enrolment code for `agency`.
    func code(agency: String = "069-lyon-3", counsellor: String? = "c1", validFor: UInt64 = 900_000) async throws -> String {
        try await server.shared.issueCode(
            agency: agency, counsellor: counsellor, name: nil, expiresAt: clock.millis + validFor, actor: "test", now: clock.millis)
    }

    /// Sends a raw request to the server, as an attacker or a misbehaving client would.
    func send(_ parts: RequestParts, body: [UInt8]?) async throws -> TransportResponse {
        let url = self.url + parts.path + (parts.query.map { "?" + $0 } ?? "")
        return try await HTTPTransport().send(TransportRequest(url: url, method: parts.method, headers: parts.headers, body: body))
    }

    var authority: String { server.expectedAuthority }

    /// Puts a TCP proxy (link shaper, fault injector) in front of the server:
    /// the server signs for the proxy's authority, and laptops use the
    /// returned URL. The caller stops the proxy.
    func behindProxy() async throws -> (proxy: TCPProxy, url: String) {
        let proxy = try await TCPProxy.start(upstreamPort: Int(url.split(separator: ":").last!)!)
        server.setAuthority("127.0.0.1:\(proxy.port)")
        return (proxy, "http://127.0.0.1:\(proxy.port)")
    }
}

/// The server storage a test runs on.
enum Backend: String, Sendable, CustomTestStringConvertible {
    /// In-memory SQLite stores (the embedded server).
    case sqlite
    /// Tables of a fresh prefix in the PostgreSQL database `NAVETTE_POSTGRES_URL` names.
    case postgres

    /// SQLite, and PostgreSQL when `NAVETTE_POSTGRES_URL` is set.
    static var available: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    static var postgresURL: PostgresURL? {
        ProcessInfo.processInfo.environment["NAVETTE_POSTGRES_URL"].flatMap { try? PostgresURL($0) }
    }

    var testDescription: String { rawValue }
}

extension SyncServer {
    /// The SQLite record store of a server the harness started on SQLite
    /// (tests that read it directly run on that backend only).
    var store: RecordStore { records as! RecordStore }
    /// Its SQLite registry.
    var registry: ServerRegistry { shared as! ServerRegistry }
}

/// Runs `body` with a server on `backend` made for it; the PostgreSQL
/// tables are dropped after.
func withServerStorage<T: Sendable>(
    _ backend: Backend, wallClock: @escaping @Sendable () -> UInt64, configuration config: ServerConfiguration, logs: CapturedLogs,
    _ body: (SyncServer) async throws -> T
) async throws -> T {
    switch backend {
    case .sqlite:
        let registry = try ServerRegistry.inMemory()
        let store = try RecordStore.inMemory(
            identity: try SyncServer.identity(registry), configuration: .init(wallClock: wallClock))
        return try await body(try SyncServer(store: store, registry: registry, configuration: config, logger: logs.logger("server")))
    case .postgres:
        let url = try #require(Backend.postgresURL, "NAVETTE_POSTGRES_URL is not set")
        let prefix = "t\(UInt32.random(in: 0...UInt32.max))"
        let quiet = Logger(label: "postgres") { _ in SwiftLogNoOpLogHandler() }
        return try await PostgresStorage.with(url: url, prefix: prefix, logger: quiet, wallClock: wallClock) { storage in
            do {
                let server = try await SyncServer.start(
                    records: storage.records, registry: storage.registry, configuration: config, logger: logs.logger("server"))
                let result = try await body(server)
                try await storage.dropTables()
                return result
            } catch {
                try? await storage.dropTables()
                throw error
            }
        }
    }
}

/// Runs `body` with a server started for it, and stops the server after.
func withServer<T: Sendable>(
    backend: Backend = .sqlite, clock: ManualClock = ManualClock(millis: 1_767_600_000_000), tls: HTTPServer.TLSFiles? = nil,
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: (TestServer) async throws -> T
) async throws -> T {
    let logs = CapturedLogs()
    var config = ServerConfiguration(host: "127.0.0.1", port: 0, wallClock: clock.read)
    configure(&config)
    let server = config
    return try await withServerStorage(backend, wallClock: clock.read, configuration: server, logs: logs) { server in
        try await serving(server, clock: clock, tls: tls, logs: logs, body)
    }
}

func serving<T: Sendable>(
    _ server: SyncServer, clock: ManualClock, tls: HTTPServer.TLSFiles?, logs: CapturedLogs,
    _ body: (TestServer) async throws -> T
) async throws -> T {
    let (urls, continuation) = AsyncStream<String>.makeStream()
    let app = try HTTPServer.application(server: server, tls: tls, logger: logs.logger("http")) { continuation.yield($0) }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        var iterator = urls.makeAsyncIterator()
        guard let url = await iterator.next() else { throw SyncError(.transport, "the server did not start") }
        do {
            let result = try await body(TestServer(server: server, url: url, clock: clock, logs: logs))
            group.cancelAll()
            // Whatever the test did, no log line may carry the personal values tests write.
            for line in logs.all {
                for canary in personalCanaries where line.contains(canary) {
                    Issue.record("a log line carries a personal value (\(canary.count) characters)")
                }
            }
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// A counsellor's laptop: a node store on disk, its key, its sync engine.
struct Laptop {
    let dir: TemporaryDirectory
    let store: RecordStore
    let key: Curve25519.Signing.PrivateKey
    var engine: SyncEngine
    let clock: ManualClock

    init(_ n: UInt64, clock: ManualClock, logs: CapturedLogs, transport: (any SyncTransport)? = nil) throws {
        dir = try TemporaryDirectory(prefix: "navette-laptop")
        self.clock = clock
        let path = dir.appending("node")
        store = try RecordStore.create(
            directory: path,
            identity: NodeIdentity(node: NodeID(rawValue: 0xA000 + n), name: "laptop \(n)", agency: "unenrolled"),
            configuration: .init(wallClock: clock.read))
        key = try NodeKey.create(directory: path)
        engine = SyncEngine(
            store: store, key: key, transport: transport ?? SchemaCheckingTransport(HTTPTransport()), logger: logs.logger("laptop \(n)"))
    }

    var path: String { dir.appending("node") }
}

/// A transport that validates every body a laptop sends and receives against
/// the protocol's JSON Schemas (`Protocol/schemas/`), recording a test issue
/// for each violation: the end-to-end tests prove the schemas describe what
/// really crosses the wire.
struct SchemaCheckingTransport: SyncTransport {
    let inner: any SyncTransport
    init(_ inner: any SyncTransport) { self.inner = inner }

    static let requests = ["/v1/sync/push": "push-request", "/v1/enrol": "enrol-request"]
    static let answers = [
        "/v1/sync/push": "push-response", "/v1/sync/pull": "pull-response", "/v1/enrol": "enrol-response",
        "/v1/auth/challenge": "challenge", "/v1/health": "health", "/v1/server-keys": "server-keys",
    ]

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let path = URLComponents(string: request.url)?.path ?? request.url
        let endpoint = Self.answers.keys.first { path.hasSuffix($0) }
        if let body = request.body, let endpoint, let schema = Self.requests[endpoint] {
            check(body, encodings: request.headers.filter { $0.name == "content-encoding" }.map(\.value), schema, "request to \(endpoint)")
        }
        let response = try await inner.send(request)
        if let endpoint {
            let contentType = response.headers.first { $0.name == "content-type" }?.value ?? ""
            let schema = response.status >= 400 ? "problem" : Self.answers[endpoint]!
            if contentType.contains("json") {
                check(response.body, encodings: response.headers.filter { $0.name == "content-encoding" }.map(\.value), schema, "answer from \(endpoint)")
            }
        }
        return response
    }

    func check(_ body: [UInt8], encodings: [String], _ schema: String, _ what: String) {
        guard let plain = try? BodyEncoding.decode(body, encodings: encodings, maximumBytes: 64 << 20) else {
            Issue.record("a \(what) could not be inflated")
            return
        }
        let errors = protocolSchemas.validate(body: plain, against: schema)
        if !errors.isEmpty { Issue.record("a \(what) is not a valid \(schema): \(errors.prefix(3).joined(separator: "; "))") }
    }
}
