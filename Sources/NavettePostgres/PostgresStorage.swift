import Logging
import NavetteCore
import NavetteStore
import PostgresNIO

/// A sync server's whole storage on one PostgreSQL database: its records
/// and change log (``PostgresRecords``) and its shared registry
/// (``PostgresRegistry``), on one connection pool.
///
/// ```swift
/// try await PostgresStorage.with(url: try PostgresURL(text), logger: logger) { storage in
///     let server = try await SyncServer.start(records: storage.records, registry: storage.registry, …)
///     …
/// }
/// ```
public struct PostgresStorage: Sendable {
    public let client: PostgresClient
    public let records: PostgresRecords
    public let registry: PostgresRegistry

    /// Why the database could not be used.
    public struct Unavailable: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Runs `body` with the storage at `url` migrated and ready; the pool
    /// runs while `body` does.
    ///
    /// One connection is opened first, so that an unreachable server or a
    /// refused login fails at once with a clear message (a pool retries for
    /// about a minute). Migrations run under an advisory lock: processes
    /// starting together create the tables once.
    ///
    /// - Parameter prefix: the tables' prefix (tests use one per run).
    /// - Throws: ``Unavailable``, or what `body` throws.
    public static func with<T: Sendable>(
        url: PostgresURL, prefix: String = "navette", logger: Logger,
        wallClock: @escaping @Sendable () -> UInt64 = RecordStore.systemMillis,
        _ body: (PostgresStorage) async throws -> T
    ) async throws -> T {
        do {
            let probe = try await PostgresConnection.connect(configuration: url.connectionConfiguration, id: 1, logger: logger)
            try await probe.close()
        } catch {
            throw Unavailable(
                description: "cannot open \(url) (\(Self.reason(error))); check that PostgreSQL runs there and the user may log in")
        }
        let client = PostgresClient(configuration: url.configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let registry = PostgresRegistry(client: client, logger: logger, prefix: prefix)
            try await migrating(client, logger) {
                try await registry.migrate()
            }
            let secret = ServerRegistry.serverNodeSecret
            let node = ServerRegistry.serverNodeID(secret: try await registry.secret(secret.name, bytes: secret.bytes))
            let records = PostgresRecords(client: client, logger: logger, prefix: prefix, node: node, wallClock: wallClock)
            try await migrating(client, logger) {
                try await records.migrate()
            }
            return try await body(PostgresStorage(client: client, records: records, registry: registry))
        }
    }

    /// Runs `body` while holding a session advisory lock on a connection of
    /// its own, so that no two processes run DDL at once.
    static func migrating(_ client: PostgresClient, _ logger: Logger, _ body: () async throws -> Void) async throws {
        try await client.withConnection { c in
            try await c.query("SELECT pg_advisory_lock(\(migrationLock))", logger: logger)
            do {
                try await body()
            } catch {
                _ = try? await c.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
                throw error
            }
            try await c.query("SELECT pg_advisory_unlock(\(migrationLock))", logger: logger)
        }
    }

    /// The lock migrations take ("navmig" in ASCII).
    static let migrationLock: Int64 = 0x6E61_766D_6967

    /// What PostgreSQL said, without the query (`PSQLError` hides it).
    static func reason(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] { return message }
            return "\(e.code)"
        }
        return "\(type(of: error))"
    }
}

extension PostgresStorage {
    /// Drops every table of this storage's prefix (tests use one prefix per run).
    public func dropTables() async throws {
        let prefix = records.prefix
        var tables: [String] = []
        let rows = try await client.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, \(prefix + "_"))",
            logger: registry.logger)
        for try await name in rows.decode(String.self) { tables.append(name) }
        for t in tables { try await client.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \"\(t)\""), logger: registry.logger) }
    }
}
