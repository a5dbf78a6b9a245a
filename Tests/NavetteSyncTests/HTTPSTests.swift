import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import Testing

/// The same sync over HTTPS, with a certificate the laptops are told to trust.
@Suite(.serialized)
struct HTTPSTests {
    /// Makes a self-signed certificate for 127.0.0.1 with the openssl tool.
    static func certificate(in dir: TemporaryDirectory) throws -> HTTPServer.TLSFiles {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.appending("key.pem"), "-out", dir.appending("cert.pem"),
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return HTTPServer.TLSFiles(certificate: dir.appending("cert.pem"), key: dir.appending("key.pem"))
    }

    @Test func laptopsSyncOverHTTPSAndRefuseAnUntrustedCertificate() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-tls")
        defer { dir.remove() }
        let tls = try Self.certificate(in: dir)
        try await withServer(tls: tls) { s in
            #expect(s.url.hasPrefix("https://127.0.0.1:"))
            let trusting = HTTPTransport(trustedCertificates: tls.certificate)
            let a = try Laptop(1, clock: s.clock, logs: s.logs, transport: trusting)
            let b = try Laptop(2, clock: s.clock, logs: s.logs, transport: trusting)
            // (A failed handshake is retried by the HTTP client until its deadline: keep it short.)
            var stranger = try Laptop(3, clock: s.clock, logs: s.logs, transport: HTTPTransport(timeout: .seconds(2)))
            stranger.engine.sleep = { _ in }
            defer { a.dir.remove(); b.dir.remove(); stranger.dir.remove() }
            try await a.engine.enrol(server: s.url, code: try s.code())
            try await b.engine.enrol(server: s.url, code: try s.code())
            let id = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("identity.lastName", "Tls"), .set("referent", "c1")])
            _ = try await a.engine.sync()
            #expect(try await b.engine.sync().snapshots == 1)
            #expect(try b.store.state("seeker", id) != nil)
            // A laptop that does not trust the certificate cannot even enrol.
            await #expect {
                try await stranger.engine.enrol(server: s.url, code: try s.code())
            } throws: { ($0 as? SyncError)?.code == .transport }
        }
    }
}
