import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import NavetteWire
import ServiceLifecycle

/// The HTTP(S) front of a ``SyncServer``, on Hummingbird 2.
///
/// ```swift
/// let app = try HTTPServer.application(server: server, tls: nil) { url in print("listening on \(url)") }
/// try await app.runService()   // until SIGINT or SIGTERM
/// ```
public enum HTTPServer {
    /// A certificate and key for HTTPS, as PEM files.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// Builds the application. `onListening` is called once the server
    /// accepts connections, with its URL (`http://127.0.0.1:PORT`).
    public static func application(
        server: SyncServer, tls: TLSFiles?, logger: Logger, onListening: @escaping @Sendable (String) -> Void
    ) throws -> some ApplicationProtocol {
        let c = server.configuration
        let scheme = tls == nil ? "http" : "https"
        let running: @Sendable (any Channel) async -> Void = { channel in
            let port = channel.localAddress?.port ?? c.port
            let host = c.host.contains(":") ? "[\(c.host)]" : c.host
            server.setAuthority("\(host):\(port)")
            onListening("\(scheme)://\(host):\(port)")
        }
        let configuration = ApplicationConfiguration(
            address: .hostname(c.host, port: c.port), serverName: nil)
        let responder = Responder(server: server)
        if let tls {
            let certificates = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            let tlsConfiguration = TLSConfiguration.makeServerConfiguration(certificateChain: certificates, privateKey: .privateKey(key))
            return try Application(
                responder: responder, server: .tls(.http1(), tlsConfiguration: tlsConfiguration),
                configuration: configuration, onServerRunning: running, logger: logger)
        }
        return Application(responder: responder, configuration: configuration, onServerRunning: running, logger: logger)
    }

    /// Builds the application and runs it until SIGINT or SIGTERM, which
    /// stop it cleanly.
    public static func serve(
        server: SyncServer, tls: TLSFiles?, logger: Logger, onListening: @escaping @Sendable (String) -> Void
    ) async throws {
        let app = try application(server: server, tls: tls, logger: logger, onListening: onListening)
        try await app.runService()
    }

    /// Builds the application and runs it until the calling task is
    /// cancelled (for an embedded server: the demo, tests).
    public static func run(
        server: SyncServer, tls: TLSFiles?, logger: Logger, onListening: @escaping @Sendable (String) -> Void
    ) async throws {
        let app = try application(server: server, tls: tls, logger: logger, onListening: onListening)
        try await app.run()
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let server: SyncServer

        func respond(to request: Request, context: Context) async throws -> Response {
            let headers = request.headers.map { HeaderField($0.name.canonicalName, $0.value) }
            let query = request.uri.query.flatMap { $0.isEmpty ? nil : $0 }
            let parts = RequestParts(
                method: request.method.rawValue, authority: server.expectedAuthority, path: request.uri.path,
                query: query, headers: headers)
            var body: [UInt8] = []
            var tooLarge = false
            do {
                let buffer = try await request.body.collect(upTo: server.configuration.maximumBodyBytes)
                body = Array(buffer.readableBytesView)
            } catch {
                tooLarge = true
            }
            let out: OutgoingResponse
            if tooLarge {
                out = server.respond(Problem(.payloadTooLarge, "the body is larger than \(server.configuration.maximumBodyBytes) bytes"), to: parts)
            } else {
                out = await server.handle(IncomingRequest(parts: parts, body: body))
            }
            var fields = HTTPFields()
            for h in out.parts.headers {
                if let name = HTTPField.Name(h.name) { fields.append(HTTPField(name: name, value: h.value)) }
            }
            return Response(
                status: HTTPResponse.Status(code: out.parts.status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: out.body)))
        }
    }
}
