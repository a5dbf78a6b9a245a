import Foundation
import PostgresNIO

/// A PostgreSQL connection URL, `postgres://user[:password]@host[:port]/database`,
/// as `navette serve --database-url` and `NAVETTE_POSTGRES_URL` take it.
public struct PostgresURL: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String?

    /// Why a URL was refused.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// - Throws: ``Invalid`` naming what is wrong (never echoing a password).
    public init(_ text: String) throws {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
            throw Invalid(description: "a database URL starts with postgres://, as in postgres://navette@127.0.0.1:5432/navette")
        }
        guard let host = url.host, !host.isEmpty else { throw Invalid(description: "the database URL names no host") }
        guard let user = url.user, !user.isEmpty else { throw Invalid(description: "the database URL names no user") }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user
        self.password = url.password
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        self.database = path.isEmpty ? nil : path
    }

    /// The client configuration (no TLS: a local or private-network server).
    ///
    /// No keep-alive queries, and idle connections close after 5 s. The
    /// pool arms a timer on every release of a connection (one for the
    /// keep-alive, 30 s by default; one for the idle timeout, 60 s), and each
    /// lives as tasks until it fires. Under 200 laptops that grew the
    /// server's memory by about 3.5 MB a second of load, up to 160–180 MB
    /// (`navette-bench --only server-postgres`); with these settings it
    /// stays under 60 MB. An idle connection is closed rather than pinged,
    /// and a new one costs a few milliseconds.
    public var configuration: PostgresClient.Configuration {
        var c = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        c.options.keepAliveBehavior = nil
        c.options.connectionIdleTimeout = .seconds(5)
        return c
    }

    /// The configuration of a single connection (to check the server at
    /// once, or to run a statement outside any pool).
    public var connectionConfiguration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }

    /// The URL without its password, for logs.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database ?? "")" }
}
