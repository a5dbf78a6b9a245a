import Crypto
import Foundation
import GRDB
import NavetteCore

/// An enrolled node as the server knows it.
public struct NodeRecord: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable {
        case active, revoked
    }
    public var id: NodeID
    /// The node's Ed25519 public key, base64url without padding.
    public var publicKey: String
    public var agency: String
    public var counsellor: String?
    public var name: String
    public var status: Status
    public var enrolledAt: UInt64
    public var revokedAt: UInt64?
    public var lastSeen: UInt64?
    /// How far ahead (positive) or behind the node's clock was at its last
    /// request, in milliseconds: its signature's `created` against the server's time.
    public var clockSkew: Int64?
    /// How many of its changes the server refused.
    public var refused: Int = 0
    /// Whether an admin widened the node's view to its whole agency.
    public var agencyWide: Bool = false

    public init(
        id: NodeID, publicKey: String, agency: String, counsellor: String?, name: String, status: Status,
        enrolledAt: UInt64,
        revokedAt: UInt64?, lastSeen: UInt64?, clockSkew: Int64? = nil, refused: Int = 0, agencyWide: Bool = false
    ) {
        self.id = id
        self.publicKey = publicKey
        self.agency = agency
        self.counsellor = counsellor
        self.name = name
        self.status = status
        self.enrolledAt = enrolledAt
        self.revokedAt = revokedAt
        self.lastSeen = lastSeen
        self.clockSkew = clockSkew
        self.refused = refused
        self.agencyWide = agencyWide
    }
}

/// An entry of the server's audit log.
public struct AuditEntry: Hashable, Sendable {
    public var sequence: Int64
    public var at: UInt64
    public var actor: String
    public var action: String
    public var target: String

    public init(sequence: Int64, at: UInt64, actor: String, action: String, target: String) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
    }
}

/// The server's own state beside its records: its secrets, enrolment
/// codes, the node registry, the replay cache, batch answers and the audit
/// log. One SQLite file, `DIR/server.sqlite`, so that every check survives a
/// restart.
public final class ServerRegistry: Sendable {
    let queue: DatabaseQueue
    /// The writes every request or push makes (``admit(keyID:nonce:expiresAt:node:clockSkew:now:)``,
    /// ``recordPush(node:batch:response:refused:created:logSequence:now:)``),
    /// committed together when they arrive together.
    let group: GroupCommit

    /// The file name inside the server's data directory.
    public static let fileName = "server.sqlite"

    /// Opens the registry in `directory`, creating it on first use.
    public static func open(directory: String) throws -> ServerRegistry {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = (directory as NSString).appendingPathComponent(fileName)
        let queue = try DatabaseQueue(path: path, configuration: RecordStore.baseConfiguration(wal: true))
        try migrator.migrate(queue)
        return ServerRegistry(queue: queue)
    }

    /// A registry in memory, for tests.
    public static func inMemory() throws -> ServerRegistry {
        let queue = try DatabaseQueue(configuration: RecordStore.baseConfiguration(wal: false))
        try migrator.migrate(queue)
        return ServerRegistry(queue: queue)
    }

    private init(queue: DatabaseQueue) {
        self.queue = queue
        self.group = GroupCommit(queue: queue)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: "CREATE TABLE secret (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
            try db.execute(
                sql: """
                    CREATE TABLE enrolment_code (
                        digest TEXT PRIMARY KEY, agency TEXT NOT NULL, counsellor TEXT, name TEXT,
                        expires_at INTEGER NOT NULL, used_at INTEGER, used_by TEXT
                    ) WITHOUT ROWID
                    """)
            try db.execute(
                sql: """
                    CREATE TABLE node (
                        id TEXT PRIMARY KEY, public_key TEXT NOT NULL, agency TEXT NOT NULL, counsellor TEXT,
                        name TEXT NOT NULL, status TEXT NOT NULL, enrolled_at INTEGER NOT NULL,
                        revoked_at INTEGER, last_seen INTEGER, clock_skew INTEGER, refused INTEGER NOT NULL DEFAULT 0,
                        agency_wide INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID
                    """)
            try db.execute(
                sql: """
                    CREATE TABLE nonce (
                        keyid TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL,
                        PRIMARY KEY (keyid, nonce)
                    ) WITHOUT ROWID
                    """)
            try db.execute(sql: "CREATE INDEX nonce_by_expiry ON nonce (expires_at)")
            try db.execute(
                sql: "CREATE TABLE challenge (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID")
            // What each node holds, as it confirmed by pulling again; and the
            // change of view last sent to it, until it confirms.
            try db.execute(
                sql: """
                    CREATE TABLE node_view (
                        node TEXT NOT NULL, collection TEXT NOT NULL, record TEXT NOT NULL, stub INTEGER NOT NULL,
                        PRIMARY KEY (node, collection, record)
                    ) WITHOUT ROWID
                    """)
            try db.execute(
                sql: """
                    CREATE TABLE node_view_pending (
                        node TEXT PRIMARY KEY, epoch INTEGER NOT NULL, entering TEXT NOT NULL, leaving TEXT NOT NULL
                    ) WITHOUT ROWID
                    """)
            try db.execute(
                sql: "CREATE TABLE node_view_epoch (node TEXT PRIMARY KEY, epoch INTEGER NOT NULL) WITHOUT ROWID")
            // The erasure ledger: erased ids (never values), re-applied at start
            // so that a store restored from a backup cannot bring them back.
            try db.execute(
                sql: """
                    CREATE TABLE erasure (
                        collection TEXT NOT NULL, record TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,
                        PRIMARY KEY (collection, record)
                    ) WITHOUT ROWID
                    """)
            try db.execute(
                sql: """
                    CREATE TABLE batch (
                        node TEXT NOT NULL, batch TEXT NOT NULL, response BLOB NOT NULL, at INTEGER NOT NULL,
                        PRIMARY KEY (node, batch)
                    ) WITHOUT ROWID
                    """)
            try db.execute(
                sql: """
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
                        action TEXT NOT NULL, target TEXT NOT NULL
                    )
                    """)
        }
        return m
    }

    // MARK: - Secrets

    /// The secret named `name`, made of `bytes` random bytes on first use.
    public func secret(_ name: String, bytes: Int = 32) throws -> [UInt8] {
        try queue.writing { db in
            if let existing = try Data.fetchOne(
                db.cachedStatement(sql: "SELECT value FROM secret WHERE name = ?"), arguments: [name])
            {
                return Array(existing)
            }
            var rng = SystemRandomNumberGenerator()
            let value = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
            try db.cachedStatement(sql: "INSERT INTO secret (name, value) VALUES (?, ?)").execute(arguments: [
                name, Data(value),
            ])
            return value
        }
    }

    /// Replaces the secret named `name`.
    public func setSecret(_ name: String, _ value: [UInt8]) throws {
        try queue.writing { db in
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO secret (name, value) VALUES (?, ?)").execute(
                arguments: [name, Data(value)])
        }
    }

    /// The secret named `name`, if it was ever set.
    public func existingSecret(_ name: String) throws -> [UInt8]? {
        try queue.reading { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT value FROM secret WHERE name = ?"), arguments: [name])
                .map(Array.init)
        }
    }

    // MARK: - Enrolment

    static let codeAlphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")  // Crockford base32

    /// Normalises a typed code: uppercase, no dashes or spaces, and the
    /// letters people confuse (O, I, L) read as digits.
    static func normalise(_ code: String) -> String {
        String(
            code.uppercased().compactMap { c -> Character? in
                switch c {
                case "-", " ": return nil
                case "O": return "0"
                case "I", "L": return "1"
                default: return c
                }
            })
    }

    static func digest(_ code: String) -> String {
        SHA256.hash(data: Array(normalise(code).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Issues a one-time enrolment code for a laptop of `agency` (and
    /// `counsellor`): issuing it is the admin's approval.
    ///
    /// - Returns: the code, `XXXX-XXXX-XXXX` (60 random bits); only its
    ///   digest is stored.
    /// - Parameter name: a label for the laptop, shown in node lists
    ///   instead of the name the laptop gives itself.
    public func issueCode(
        agency: String, counsellor: String?, name: String? = nil, expiresAt: UInt64, actor: String, now: UInt64
    ) throws -> String {
        let code = Self.newEnrolmentCode()
        try queue.writing { db in
            try db.cachedStatement(
                sql: "INSERT INTO enrolment_code (digest, agency, counsellor, name, expires_at) VALUES (?, ?, ?, ?, ?)"
            ).execute(arguments: [Self.digest(code), agency, counsellor, name, Int64(expiresAt)])
            try Self.audit(db, at: now, actor: actor, action: "issue-enrolment-code", target: "agency \(agency)")
        }
        return code
    }

    /// Why an enrolment was refused. The server answers every case with the
    /// same problem: the reason is for the audit log only.
    public enum EnrolmentRefusal: Error, Hashable, Sendable {
        case unknownCode, usedCode, expiredCode, nodeAlreadyEnrolled
    }

    /// Redeems a code: enrols `node` with the agency and counsellor the code
    /// was issued for, and uses the code up — atomically.
    ///
    /// - Throws: ``EnrolmentRefusal``.
    public func redeem(code: String, node: NodeID, publicKey: String, name: String, now: UInt64) throws -> NodeRecord {
        try queue.writing { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM enrolment_code WHERE digest = ?"),
                    arguments: [Self.digest(code)])
            else { throw EnrolmentRefusal.unknownCode }
            guard (row["used_at"] as Int64?) == nil else { throw EnrolmentRefusal.usedCode }
            guard UInt64(row["expires_at"] as Int64) > now else { throw EnrolmentRefusal.expiredCode }
            guard try Self.node(db, node) == nil else { throw EnrolmentRefusal.nodeAlreadyEnrolled }
            let label: String = (row["name"] as String?) ?? name
            let record = NodeRecord(
                id: node, publicKey: publicKey, agency: row["agency"], counsellor: row["counsellor"], name: label,
                status: .active, enrolledAt: now, revokedAt: nil, lastSeen: nil)
            try db.execute(
                sql: """
                    INSERT INTO node (id, public_key, agency, counsellor, name, status, enrolled_at)
                    VALUES (?, ?, ?, ?, ?, 'active', ?)
                    """,
                arguments: [node.description, publicKey, record.agency, record.counsellor, label, Int64(now)])
            try db.cachedStatement(sql: "UPDATE enrolment_code SET used_at = ?, used_by = ? WHERE digest = ?").execute(
                arguments: [Int64(now), node.description, Self.digest(code)])
            try Self.audit(db, at: now, actor: "node \(node)", action: "enrol", target: "agency \(record.agency)")
            return record
        }
    }

    // MARK: - Nodes

    /// The node with this id, if enrolled (active or revoked).
    public func node(_ id: NodeID) throws -> NodeRecord? {
        try queue.reading { db in try Self.node(db, id) }
    }

    /// One read: each read costs the server a transaction of its own.
    public func node(_ id: NodeID, challenge nonce: String, now: UInt64) throws
        -> (node: NodeRecord?, isChallenge: Bool)
    {
        try queue.reading { db in (try Self.node(db, id), try Self.isChallenge(db, nonce, now: now)) }
    }

    /// Every enrolled node, by agency then id.
    public func nodes() throws -> [NodeRecord] {
        try queue.reading { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM node ORDER BY agency, id")).map(Self.nodeRecord)
        }
    }

    /// Revokes a node: its next request is refused, with no cache in between.
    ///
    /// - Returns: `false` when no such node is enrolled.
    @discardableResult
    public func revoke(_ id: NodeID, actor: String, now: UInt64) throws -> Bool {
        try queue.writing { db in
            try db.cachedStatement(
                sql: "UPDATE node SET status = 'revoked', revoked_at = coalesce(revoked_at, ?) WHERE id = ?"
            ).execute(arguments: [Int64(now), id.description])
            guard db.changesCount > 0 else { return false }
            try Self.audit(db, at: now, actor: actor, action: "revoke", target: "node \(id)")
            return true
        }
    }

    /// Notes when a node was last heard from, and how far off its clock was.
    public func touch(_ id: NodeID, at: UInt64, clockSkew: Int64) throws {
        try queue.writing { db in
            try db.cachedStatement(sql: "UPDATE node SET last_seen = ?, clock_skew = ? WHERE id = ?").execute(
                arguments: [Int64(at), clockSkew, id.description])
        }
    }

    static func node(_ db: Database, _ id: NodeID) throws -> NodeRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM node WHERE id = ?"), arguments: [id.description]).map(
            nodeRecord)
    }

    static func nodeRecord(_ row: Row) -> NodeRecord {
        NodeRecord(
            id: NodeID(row["id"] as String)!, publicKey: row["public_key"], agency: row["agency"],
            counsellor: row["counsellor"], name: row["name"],
            status: NodeRecord.Status(rawValue: row["status"]) ?? .revoked,
            enrolledAt: UInt64(row["enrolled_at"] as Int64), revokedAt: (row["revoked_at"] as Int64?).map(UInt64.init),
            lastSeen: (row["last_seen"] as Int64?).map(UInt64.init), clockSkew: row["clock_skew"],
            refused: row["refused"],
            agencyWide: row["agency_wide"])
    }

    /// Widens a node's view to its whole agency, or narrows it back.
    ///
    /// - Returns: `false` when no such node is enrolled.
    @discardableResult
    public func setAgencyWide(_ id: NodeID, _ wide: Bool, actor: String, now: UInt64) throws -> Bool {
        try queue.writing { db in
            try db.cachedStatement(sql: "UPDATE node SET agency_wide = ? WHERE id = ?").execute(arguments: [
                wide, id.description,
            ])
            guard db.changesCount > 0 else { return false }
            try Self.audit(db, at: now, actor: actor, action: wide ? "view-widen" : "view-narrow", target: "node \(id)")
            return true
        }
    }

    // MARK: - Views

    /// What `node` holds, as it confirmed: each record, `true` for a stub.
    public func confirmedView(_ node: NodeID) throws -> [RecordRef: Bool] {
        try queue.reading { db in
            var out: [RecordRef: Bool] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(sql: "SELECT collection, record, stub FROM node_view WHERE node = ?"),
                arguments: [node.description])
            {
                out[RecordRef(row["collection"], row["record"])] = row["stub"]
            }
            return out
        }
    }

    /// The nodes that still hold `ref` (as far as the server knows).
    public func holders(of ref: RecordRef) throws -> [NodeID] {
        try queue.reading { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT node FROM node_view WHERE collection = ? AND record = ? ORDER BY node"),
                arguments: [ref.collection, ref.id]
            ).compactMap(NodeID.init)
        }
    }

    /// Starts a pull's view bookkeeping: confirms the change of view sent
    /// with the cursor's epoch (the node pulled again with it, so it got
    /// it), or forgets it (the node did not). Returns the current epoch.
    public func confirmView(_ node: NodeID, epoch: Int64?) throws -> Int64 {
        try queue.writing { db in
            let current =
                try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT epoch FROM node_view_epoch WHERE node = ?"),
                    arguments: [node.description]) ?? 0
            if let pending = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM node_view_pending WHERE node = ?"), arguments: [node.description]
            ) {
                if epoch == pending["epoch"] {
                    // Leaving first: a file that became a stub leaves whole and enters as a stub.
                    for item in (try? JSONValue(parsing: pending["leaving"] as String))?.arrayValue ?? [] {
                        guard let c = item["c"]?.stringValue, let r = item["r"]?.stringValue else { continue }
                        try db.cachedStatement(
                            sql: "DELETE FROM node_view WHERE node = ? AND collection = ? AND record = ?"
                        ).execute(arguments: [node.description, c, r])
                    }
                    for item in (try? JSONValue(parsing: pending["entering"] as String))?.arrayValue ?? [] {
                        guard let c = item["c"]?.stringValue, let r = item["r"]?.stringValue else { continue }
                        try db.cachedStatement(
                            sql: "INSERT OR REPLACE INTO node_view (node, collection, record, stub) VALUES (?, ?, ?, ?)"
                        ).execute(arguments: [node.description, c, r, item["s"]?.boolValue ?? false])
                    }
                }
                try db.cachedStatement(sql: "DELETE FROM node_view_pending WHERE node = ?").execute(arguments: [
                    node.description
                ])
            }
            return current
        }
    }

    /// Records a change of view sent to `node`, to confirm at its next pull;
    /// returns the epoch its cursor must carry.
    public func sendView(_ node: NodeID, entering: [RecordRef: Bool], leaving: [RecordRef]) throws -> Int64 {
        try queue.writing { db in
            let epoch =
                (try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT epoch FROM node_view_epoch WHERE node = ?"),
                    arguments: [node.description]) ?? 0) + 1
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO node_view_epoch (node, epoch) VALUES (?, ?)").execute(
                arguments: [node.description, epoch])
            let e = JSONValue.array(
                entering.map { ["c": .string($0.key.collection), "r": .string($0.key.id), "s": .bool($0.value)] })
            let l = JSONValue.array(leaving.map { ["c": .string($0.collection), "r": .string($0.id)] })
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO node_view_pending (node, epoch, entering, leaving) VALUES (?, ?, ?, ?)"
            ).execute(arguments: [node.description, epoch, e.canonicalString, l.canonicalString])
            return epoch
        }
    }

    /// Forgets what a node holds (it starts again from snapshots).
    public func resetView(_ node: NodeID) throws {
        try queue.writing { db in
            try db.cachedStatement(sql: "DELETE FROM node_view WHERE node = ?").execute(arguments: [node.description])
            try db.cachedStatement(sql: "DELETE FROM node_view_pending WHERE node = ?").execute(arguments: [
                node.description
            ])
        }
    }

    // MARK: - Erasure ledger

    /// Records erasures in the ledger and the audit log.
    public func recordErasure(_ refs: [RecordRef], actor: String, now: UInt64) throws {
        try queue.writing { db in
            for ref in refs {
                try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO erasure (collection, record, at, actor) VALUES (?, ?, ?, ?)"
                ).execute(arguments: [ref.collection, ref.id, Int64(now), actor])
            }
            if let first = refs.first {
                try Self.audit(
                    db, at: now, actor: actor, action: "erase", target: "\(first) and \(refs.count - 1) linked records")
            }
        }
    }

    /// Every erased record, oldest first, with when it was erased.
    public func erasures() throws -> [(record: RecordRef, at: UInt64)] {
        try queue.reading { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM erasure ORDER BY at, collection, record")).map {
                (RecordRef($0["collection"], $0["record"]), UInt64($0["at"] as Int64))
            }
        }
    }

    // MARK: - Replay cache

    /// Records a `(keyid, nonce)` pair until `expiresAt`.
    ///
    /// - Returns: `false` when the pair was already recorded: a replay.
    public func recordNonce(keyID: String, nonce: String, expiresAt: UInt64, now: UInt64) throws -> Bool {
        try queue.writing { db in
            try db.cachedStatement(sql: "DELETE FROM nonce WHERE expires_at < ?").execute(arguments: [Int64(now)])
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO nonce (keyid, nonce, expires_at) VALUES (?, ?, ?)")
                .execute(arguments: [keyID, nonce, Int64(expiresAt)])
            return db.changesCount > 0
        }
    }

    /// Whether `(keyID, nonce)` is in the replay cache.
    public func hasNonce(keyID: String, nonce: String) throws -> Bool {
        try queue.reading { db in
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM nonce WHERE keyid = ? AND nonce = ?"), arguments: [keyID, nonce])
                ?? false
        }
    }

    /// Admits a verified request in one transaction: records its
    /// `(keyid, nonce)` until `expiresAt` and notes when the node was last
    /// heard from and how far off its clock was.
    ///
    /// Admissions that arrive together are committed together
    /// (``GroupCommit``): each returns once its nonce is durable.
    ///
    /// - Returns: `false` when the pair was already recorded (a replay);
    ///   nothing is written then.
    public func admit(
        keyID: String, nonce: String, expiresAt: UInt64, node: NodeID, clockSkew: Int64, now: UInt64
    ) async throws -> Bool {
        try await group.write { db in
            try db.cachedStatement(sql: "DELETE FROM nonce WHERE expires_at < ?").execute(arguments: [Int64(now)])
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO nonce (keyid, nonce, expires_at) VALUES (?, ?, ?)")
                .execute(arguments: [keyID, nonce, Int64(expiresAt)])
            guard db.changesCount > 0 else { return false }
            try db.cachedStatement(sql: "UPDATE node SET last_seen = ?, clock_skew = ? WHERE id = ?")
                .execute(arguments: [Int64(now), clockSkew, node.description])
            return true
        }
    }

    /// Records what a push did, all or nothing: the answer (so that a
    /// retry gets the same), the changes refused, and the records the node
    /// created (it holds them). Committed with other requests' writes that
    /// arrive meanwhile (``GroupCommit``); durable when it returns.
    public func recordPush(
        node: NodeID, batch: String, response: [UInt8], refused: Int, created: [RecordRef], logSequence: Int64,
        now: UInt64
    ) async throws {
        try await group.write { db in
            // Only ever raised: a store restored from an older backup ends before it.
            try db.cachedStatement(
                sql: """
                    INSERT INTO secret (name, value) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET value = max(secret.value, excluded.value)
                    """
            ).execute(arguments: [Self.logHighWaterName, Data(Self.logHighWaterBytes(logSequence))])
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO batch (node, batch, response, at) VALUES (?, ?, ?, ?)")
                .execute(arguments: [node.description, batch, Data(response), Int64(now)])
            if refused > 0 {
                try db.cachedStatement(sql: "UPDATE node SET refused = refused + ? WHERE id = ?").execute(arguments: [
                    refused, node.description,
                ])
            }
            for ref in created {
                try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO node_view (node, collection, record, stub) VALUES (?, ?, ?, 0)"
                )
                .execute(arguments: [node.description, ref.collection, ref.id])
            }
        }
    }

    /// How many nonces the cache holds (for limits and tests).
    public func nonceCount() throws -> Int {
        try queue.reading { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM nonce")) ?? 0 }
    }

    // MARK: - Clock-free challenges

    /// Keeps `nonce` as a single-use challenge valid until `expiresAt`, for
    /// a node whose clock cannot be trusted.
    public func issueChallenge(_ nonce: String, expiresAt: UInt64, now: UInt64) throws {
        try queue.writing { db in
            try db.cachedStatement(sql: "DELETE FROM challenge WHERE expires_at < ?").execute(arguments: [Int64(now)])
            try db.cachedStatement(sql: "INSERT INTO challenge (nonce, expires_at) VALUES (?, ?)").execute(arguments: [
                nonce, Int64(expiresAt),
            ])
        }
    }

    /// Whether `nonce` is a live, unused challenge.
    public func isChallenge(_ nonce: String, now: UInt64) throws -> Bool {
        try queue.reading { db in try Self.isChallenge(db, nonce, now: now) }
    }

    static func isChallenge(_ db: Database, _ nonce: String, now: UInt64) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM challenge WHERE nonce = ? AND expires_at >= ?"),
            arguments: [nonce, Int64(now)])
            ?? false
    }

    /// Uses a challenge up. Returns `false` when it was already used.
    public func consumeChallenge(_ nonce: String) throws -> Bool {
        try queue.writing { db in
            try db.cachedStatement(sql: "DELETE FROM challenge WHERE nonce = ?").execute(arguments: [nonce])
            return db.changesCount > 0
        }
    }

    // MARK: - Batches

    /// The answer already given to `batch` from `node`, if any.
    public func batchResponse(node: NodeID, batch: String) throws -> [UInt8]? {
        try queue.reading { db in
            try Data.fetchOne(
                db.cachedStatement(sql: "SELECT response FROM batch WHERE node = ? AND batch = ?"),
                arguments: [node.description, batch]
            ).map(Array.init)
        }
    }

    // MARK: - Audit

    static func audit(_ db: Database, at: UInt64, actor: String, action: String, target: String) throws {
        try db.cachedStatement(sql: "INSERT INTO audit (at, actor, action, target) VALUES (?, ?, ?, ?)").execute(
            arguments: [Int64(at), actor, action, target])
    }

    /// Appends to the audit log (ids only, never personal values).
    public func audit(actor: String, action: String, target: String, at: UInt64) throws {
        try queue.writing { db in try Self.audit(db, at: at, actor: actor, action: action, target: target) }
    }

    /// The audit log, oldest first.
    public func auditLog() throws -> [AuditEntry] {
        try queue.reading { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM audit ORDER BY seq")).map { row in
                AuditEntry(
                    sequence: row["seq"], at: UInt64(row["at"] as Int64), actor: row["actor"], action: row["action"],
                    target: row["target"])
            }
        }
    }
}
