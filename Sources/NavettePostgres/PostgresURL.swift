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
    public var configuration: PostgresClient.Configuration {
        PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }

    /// The configuration of a single connection (to check the server at
    /// once, or to run a statement outside any pool).
    public var connectionConfiguration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }

    /// The URL without its password, for logs.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database ?? "")" }
}
