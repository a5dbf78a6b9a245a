import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import NavetteWire

/// A request as the node sends it.
public struct TransportRequest: Sendable {
    public var url: String
    public var method: String
    public var headers: [HeaderField]
    public var body: [UInt8]?

    public init(url: String, method: String, headers: [HeaderField], body: [UInt8]?) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }
}

/// An answer as the node received it, before any check.
public struct TransportResponse: Sendable {
    public var status: Int
    public var headers: [HeaderField]
    public var body: [UInt8]

    public init(status: Int, headers: [HeaderField], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How a node reaches its server: HTTP in production, something in-process
/// in tests.
public protocol SyncTransport: Sendable {
    /// Sends one request.
    ///
    /// - Throws: ``SyncError`` `transport` when the exchange fails below HTTP.
    func send(_ request: TransportRequest) async throws -> TransportResponse
}

/// The production transport, on AsyncHTTPClient.
///
/// Its client never follows redirects and never decompresses: the digest
/// and signature cover the bytes exactly as the server sent them.
public struct HTTPTransport: SyncTransport {
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(30), read: .seconds(120)),
            decompression: .disabled))

    /// PEM certificates to trust instead of the system's, for a server with
    /// a private certificate authority.
    public var trustedCertificates: String?
    /// How long one exchange may take, connection included.
    public var timeout: Duration
    public var maximumResponseBytes: Int

    public init(trustedCertificates: String? = nil, timeout: Duration = .seconds(60), maximumResponseBytes: Int = 16 << 20) {
        self.trustedCertificates = trustedCertificates
        self.timeout = timeout
        self.maximumResponseBytes = maximumResponseBytes
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        var r = HTTPClientRequest(url: request.url)
        r.method = HTTPMethod(rawValue: request.method)
        for h in request.headers { r.headers.add(name: h.name, value: h.value) }
        if let body = request.body { r.body = .bytes(ByteBuffer(bytes: body)) }
        if let trustedCertificates {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(trustedCertificates)
            r.tlsConfiguration = tls
        }
        do {
            let c = timeout.components
            let nanoseconds = c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
            let response = try await Self.client.execute(r, timeout: .nanoseconds(nanoseconds))
            let body = try await response.body.collect(upTo: maximumResponseBytes)
            return TransportResponse(
                status: Int(response.status.code), headers: response.headers.map { HeaderField($0.name, $0.value) },
                body: Array(body.readableBytesView))
        } catch let e as SyncError {
            throw e
        } catch {
            throw SyncError(.transport, "the server could not be reached (\(type(of: error))); try again later")
        }
    }
}
