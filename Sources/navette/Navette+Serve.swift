import ArgumentParser
import Foundation
import Logging
import NavetteServer
import NavetteStore

extension Navette {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the sync server, on this machine's embedded SQLite store or on PostgreSQL.",
            discussion: """
                With '--data DIR' the server keeps everything in DIR (one process). With '--database-url' it keeps \
                everything in PostgreSQL, and any number of processes may serve the same database behind a load \
                balancer (docs/operations.md); the tables are created or migrated at start. The server's signing \
                key is made on first start and kept in the storage. Once it accepts connections it prints \
                'listening on URL' on a line of its own. SIGINT or SIGTERM stop it cleanly.
                """)
        @OptionGroup var storage: ServerDataOptions
        @Option(help: "The address to listen on.") var host = "127.0.0.1"
        @Option(help: "The port to listen on (0: any free port).") var port = 8080
        @Option(name: .customLong("tls-cert"), help: "PEM certificate chain, to serve HTTPS.") var tlsCert: String?
        @Option(name: .customLong("tls-key"), help: "PEM private key of the certificate.") var tlsKey: String?
        @Option(name: .customLong("public-url"), help: "The URL nodes use when a proxy sits in front (its authority is what they sign).")
        var publicURL: String?

        func validate() throws {
            try storage.validate()
            guard (0...65535).contains(port) else {
                throw ValidationError("'--port' must be between 0 and 65535, not \(port).")
            }
            guard (tlsCert == nil) == (tlsKey == nil) else {
                throw ValidationError("give both '--tls-cert' and '--tls-key', or neither.")
            }
            if let publicURL {
                guard let url = URL(string: publicURL), url.host != nil, ["http", "https"].contains(url.scheme ?? "") else {
                    throw ValidationError("'--public-url' must be an http(s) URL such as https://sync.example.org.")
                }
            }
        }

        func run() async throws {
            let logger = {
                var l = Logger(label: "navette.server")
                l.logLevel = .notice
                return l
            }()
            var configuration = ServerConfiguration(host: host, port: port, wallClock: RecordStore.systemMillis)
            if let publicURL, let url = URL(string: publicURL), let h = url.host?.lowercased() {
                let defaultPort = url.scheme == "https" ? 443 : 80
                configuration.publicAuthority = url.port.map { $0 == defaultPort ? h : "\(h):\($0)" } ?? h
            }
            let tls = tlsCert.map { HTTPServer.TLSFiles(certificate: $0, key: tlsKey!) }
            try await storage.withServer(configuration: configuration, logger: logger, creating: true) { server in
                try await HTTPServer.serve(server: server, tls: tls, logger: logger) { url in
                    printFlushed("listening on \(url)")
                }
            }
        }
    }
}
