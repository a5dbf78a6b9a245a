import Foundation
import GRDB
import NavetteCore
import Synchronization

/// A node's record store: one SQLite file holding the change log, the
/// materialised records, their field-level conflicts and the per-peer sync
/// checkpoints.
///
/// Every user action is one transaction, durable when the call returns (WAL
/// with `synchronous=FULL`): an edit survives `kill -9` and a power cut.
/// Every remote batch is one transaction too, applied idempotently and in
/// any order with the same result.
///
/// ```swift
/// let store = try RecordStore.create(directory: dir, identity: me)
/// let id = try store.createRecord("seeker", [.set("identity.lastName", "Martin")])
/// try store.edit("seeker", id, [.set("contact.phone", "0612345678")])
/// let state = try store.state("seeker", id)
/// ```
///
/// GRDB never appears in this API: its methods are domain verbs.
public final class RecordStore: Sendable {
    /// Options of a store.
    public struct Configuration: Sendable {
        /// The schema local input is validated against.
        public var schema: Schema
        /// The node's corrected wall time in milliseconds since 1970.
        public var wallClock: @Sendable () -> UInt64
        /// The clock bound Δ, in milliseconds.
        public var maximumDrift: UInt64

        public init(
            schema: Schema = .navette, wallClock: @escaping @Sendable () -> UInt64 = RecordStore.systemMillis,
            maximumDrift: UInt64 = HybridLogicalClock.defaultMaximumDrift
        ) {
            self.schema = schema
            self.wallClock = wallClock
            self.maximumDrift = maximumDrift
        }
    }

    /// The system clock, in milliseconds since 1970.
    public static let systemMillis: @Sendable () -> UInt64 = {
        UInt64(max(0, (Date().timeIntervalSince1970 * 1000).rounded()))
    }

    /// The name of the store file inside a node's directory.
    public static let fileName = "navette.sqlite"

    /// Who this node is (enrolment may change its agency and counsellor).
    public var identity: NodeIdentity { state.withLock { $0.identity } }
    public let configuration: Configuration
    /// The path of the SQLite file, or `":memory:"`.
    public let path: String
    let queue: DatabaseQueue
    /// The statements write sessions run, kept prepared between sessions.
    let prepared = PreparedStatements()
    /// Checkpoints the WAL in the background (file stores only).
    let checkpointer: Checkpointer?
    private let state: Mutex<(identity: NodeIdentity, clockOffset: Int64)>

    /// The WAL's length, in pages, past which a commit of the store's own
    /// connection checkpoints inline: only if the background
    /// ``Checkpointer`` falls this far behind (SQLite's default is 1,000).
    static let inlineCheckpointPages = 10_000

    private init(queue: DatabaseQueue, path: String, identity: NodeIdentity, configuration: Configuration) throws {
        self.queue = queue
        self.path = path
        self.configuration = configuration
        self.checkpointer =
            path == ":memory:" ? nil : try Checkpointer(path: path, configuration: Self.baseConfiguration(wal: true))
        let offset = try queue.reading { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'sync.clockOffset'"))
                .flatMap { Int64($0) }
        }
        self.state = Mutex((identity, offset ?? 0))
    }

    deinit {
        // The checkpointer's connection closes first, so that the store's own
        // is the last: closing it copies the WAL into the file and removes it.
        checkpointer?.stop()
        // Nothing else holds the connection now; its statements must be
        // finalized before it closes.
        prepared.finalize()
    }

    /// The node's corrected wall time: its clock plus the offset learned
    /// from signed server responses, in milliseconds since 1970.
    public func now() -> UInt64 {
        let offset = state.withLock { $0.clockOffset }
        return UInt64(max(0, Int64(configuration.wallClock()) + offset))
    }

    /// The offset between the server's clock and this node's, in
    /// milliseconds (positive: the server is ahead).
    public var clockOffset: Int64 { state.withLock { $0.clockOffset } }

    /// Records the clock offset learned from a signed, request-bound server
    /// response. Never call it with a time from an unsigned source.
    public func setClockOffset(_ offset: Int64) throws {
        try setMeta("sync.clockOffset", String(offset))
        state.withLock { $0.clockOffset = offset }
    }

    /// Rebinds the node to an agency and counsellor (at enrolment).
    public func setIdentity(agency: String, counsellor: String?) throws {
        try queue.writing { db in
            try db.cachedStatement(sql: "UPDATE meta SET value = ? WHERE key = 'agency'").execute(arguments: [agency])
            try db.cachedStatement(sql: "DELETE FROM meta WHERE key = 'counsellor'").execute()
            if let counsellor {
                try db.cachedStatement(sql: "INSERT INTO meta (key, value) VALUES ('counsellor', ?)").execute(
                    arguments: [counsellor])
            }
        }
        state.withLock {
            $0.identity.agency = agency
            $0.identity.counsellor = counsellor
        }
    }

    /// A node setting (`sync.server`, `sync.cursor`…), or `nil`.
    public func meta(_ key: String) throws -> String? {
        try queue.reading { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
        }
    }

    /// Sets (or, with `nil`, removes) a node setting.
    public func setMeta(_ key: String, _ value: String?) throws {
        try queue.writing { db in
            if let value {
                try db.cachedStatement(
                    sql:
                        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                ).execute(arguments: [key, value])
            } else {
                try db.cachedStatement(sql: "DELETE FROM meta WHERE key = ?").execute(arguments: [key])
            }
        }
    }

    /// The path of the store file of the node in `directory`.
    public static func storePath(directory: String) -> String {
        (directory as NSString).appendingPathComponent(fileName)
    }

    /// Creates a node's store in `directory` (made if missing, owner-only).
    ///
    /// - Throws: ``StoreError`` `alreadyInitialised` when the directory
    ///   already holds a store.
    public static func create(
        directory: String, identity: NodeIdentity, configuration: Configuration = Configuration()
    ) throws -> RecordStore {
        let path = storePath(directory: directory)
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            throw StoreError(.alreadyInitialised, "\(directory) already holds a node; use another directory")
        }
        try fm.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let queue = try makeQueue(path: path)
        try initialise(queue, identity: identity)
        return try RecordStore(queue: queue, path: path, identity: identity, configuration: configuration)
    }

    /// Opens the store of the node in `directory`.
    ///
    /// - Throws: ``StoreError`` `notInitialised` when there is none, and
    ///   `unsupportedVersion` when a newer version of Navette wrote it: this
    ///   version would not keep what the newer one keeps (since store
    ///   version 4, the clock rides on the log, where an earlier version
    ///   would not look, and would give a change id twice).
    public static func open(directory: String, configuration: Configuration = Configuration()) throws -> RecordStore {
        let path = storePath(directory: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(
                .notInitialised, "\(directory) holds no node; create one with 'navette node init --dir \(directory) …'")
        }
        let queue = try makeQueue(path: path)
        guard try !queue.reading({ db in try migrator.hasBeenSuperseded(db) }) else {
            throw StoreError(
                .unsupportedVersion,
                "the store in \(directory) was written by a newer version of Navette; run that version, "
                    + "or restore the backup taken before it upgraded the store")
        }
        try migrator.migrate(queue)
        let identity = try queue.reading { db in try readIdentity(db) }
        return try RecordStore(queue: queue, path: path, identity: identity, configuration: configuration)
    }

    /// A store in memory, for tests and the demo.
    public static func inMemory(identity: NodeIdentity, configuration: Configuration = Configuration()) throws
        -> RecordStore
    {
        let queue = try DatabaseQueue(configuration: baseConfiguration(wal: false))
        try initialise(queue, identity: identity)
        return try RecordStore(queue: queue, path: ":memory:", identity: identity, configuration: configuration)
    }

    /// - Parameter backgroundCheckpoints: a ``Checkpointer`` runs beside
    ///   this connection, which then checkpoints inline only past
    ///   ``inlineCheckpointPages``.
    static func baseConfiguration(wal: Bool, backgroundCheckpoints: Bool = false) -> GRDB.Configuration {
        var config = GRDB.Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            if wal {
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard mode == "wal" else { throw StoreError(.damaged, "could not switch the store to WAL mode") }
            }
            // Durable when a transaction returns; deleted content overwritten.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA secure_delete = ON")
            if wal, backgroundCheckpoints {
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(inlineCheckpointPages)")
            }
        }
        return config
    }

    static func makeQueue(path: String) throws -> DatabaseQueue {
        try DatabaseQueue(path: path, configuration: baseConfiguration(wal: true, backgroundCheckpoints: true))
    }

    static func initialise(_ queue: DatabaseQueue, identity: NodeIdentity) throws {
        try migrator.migrate(queue)
        try queue.writing { db in
            var meta: [String: String] = [
                "node": identity.node.description, "name": identity.name, "agency": identity.agency,
                "counter": "0", "clock": Timestamp.zero.description,
            ]
            if let c = identity.counsellor { meta["counsellor"] = c }
            for (k, v) in meta {
                try db.cachedStatement(sql: "INSERT INTO meta (key, value) VALUES (?, ?)").execute(arguments: [k, v])
            }
        }
    }

    static func readIdentity(_ db: Database) throws -> NodeIdentity {
        let meta = try metaValues(db)
        guard let nodeText = meta["node"], let node = NodeID(nodeText), let name = meta["name"],
            let agency = meta["agency"]
        else { throw StoreError(.damaged, "the store's identity is missing or damaged") }
        return NodeIdentity(node: node, name: name, agency: agency, counsellor: meta["counsellor"])
    }

    static func metaValues(_ db: Database) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try Row.fetchAll(try db.cachedStatement(sql: "SELECT key, value FROM meta")) {
            out[row["key"]] = row["value"]
        }
        return out
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `"ok"` when the file is sound.
    public func integrityCheck() throws -> String {
        try queue.reading { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
        }
    }

    /// Reads a pragma's value, for checks of the durability settings.
    public func pragma(_ name: String) throws -> String? {
        precondition(name.allSatisfy { $0.isLetter || $0 == "_" }, "not a pragma name")
        return try queue.reading { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }
}
