import Logging
import NavetteCore
import NavetteStore
import PostgresNIO

/// The shared part of the server's registry on PostgreSQL: secrets (the
/// signing key), enrolment codes, nodes and revocation, the replay cache and
/// the audit log, the same for every server process on the database.
///
/// Each operation is one statement or one transaction, so two processes
/// never both redeem a code, both accept a nonce, or mint two signing keys.
///
/// ```swift
/// let registry = PostgresRegistry(client: client, logger: logger)
/// try await registry.migrate()
/// let key = try await registry.secret("signing-key", bytes: 32)   // the same in every process
/// ```
public struct PostgresRegistry: SharedRegistry {
    public let client: PostgresClient
    let logger: Logger
    /// The tables' prefix (tests use one per run).
    public let prefix: String

    public init(client: PostgresClient, logger: Logger, prefix: String = "navette") {
        self.client = client
        self.logger = logger
        self.prefix = prefix
    }

    func t(_ name: String) -> String { "\(prefix)_\(name)" }

    /// Creates the tables if they are missing.
    public func migrate() async throws {
        let statements = [
            "CREATE TABLE IF NOT EXISTS \(t("secret")) (name TEXT PRIMARY KEY, value BYTEA NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS \(t("enrolment_code")) (digest TEXT PRIMARY KEY, agency TEXT NOT NULL, counsellor TEXT,
                name TEXT, expires_at BIGINT NOT NULL, used_at BIGINT, used_by TEXT)
            """,
            """
            CREATE TABLE IF NOT EXISTS \(t("node")) (id TEXT PRIMARY KEY, public_key TEXT NOT NULL, agency TEXT NOT NULL,
                counsellor TEXT, name TEXT NOT NULL, status TEXT NOT NULL, enrolled_at BIGINT NOT NULL, revoked_at BIGINT,
                last_seen BIGINT, clock_skew BIGINT, refused BIGINT NOT NULL DEFAULT 0, agency_wide BOOLEAN NOT NULL DEFAULT FALSE)
            """,
            """
            CREATE TABLE IF NOT EXISTS \(t("nonce")) (keyid TEXT NOT NULL, nonce TEXT NOT NULL, expires_at BIGINT NOT NULL,
                PRIMARY KEY (keyid, nonce))
            """,
            "CREATE INDEX IF NOT EXISTS \(t("nonce_expiry")) ON \(t("nonce")) (expires_at)",
            """
            CREATE TABLE IF NOT EXISTS \(t("audit")) (seq BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL,
                action TEXT NOT NULL, target TEXT NOT NULL)
            """,
            "CREATE TABLE IF NOT EXISTS \(t("challenge")) (nonce TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS \(t("node_view")) (node TEXT NOT NULL, collection TEXT NOT NULL, record TEXT NOT NULL,
                stub BOOLEAN NOT NULL, PRIMARY KEY (node, collection, record))
            """,
            "CREATE INDEX IF NOT EXISTS \(t("node_view_record")) ON \(t("node_view")) (collection, record)",
            """
            CREATE TABLE IF NOT EXISTS \(t("node_view_pending")) (node TEXT PRIMARY KEY, epoch BIGINT NOT NULL,
                entering TEXT NOT NULL, leaving TEXT NOT NULL)
            """,
            "CREATE TABLE IF NOT EXISTS \(t("node_view_epoch")) (node TEXT PRIMARY KEY, epoch BIGINT NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS \(t("erasure")) (collection TEXT NOT NULL, record TEXT NOT NULL, at BIGINT NOT NULL,
                actor TEXT NOT NULL, PRIMARY KEY (collection, record))
            """,
            """
            CREATE TABLE IF NOT EXISTS \(t("batch")) (node TEXT NOT NULL, batch TEXT NOT NULL, response BYTEA NOT NULL,
                at BIGINT NOT NULL, PRIMARY KEY (node, batch))
            """,
        ]
        for s in statements { try await client.query(PostgresQuery(unsafeSQL: s), logger: logger) }
    }

    // MARK: - Secrets

    public func secret(_ name: String, bytes: Int) async throws -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        let fresh = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        // The first process to insert wins; every other reads what it wrote.
        var insert = PostgresQuery(unsafeSQL: "INSERT INTO \(t("secret")) (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        insert.binds.append(name)
        insert.binds.append(ByteBuffer(bytes: fresh))
        try await client.query(insert, logger: logger)
        var select = PostgresQuery(unsafeSQL: "SELECT value FROM \(t("secret")) WHERE name = $1")
        select.binds.append(name)
        for try await value in try await client.query(select, logger: logger).decode(ByteBuffer.self) {
            return Array(value.readableBytesView)
        }
        throw PostgresRegistryError("the secret \(name) could not be read back")
    }

    // MARK: - Enrolment

    public func issueCode(
        agency: String, counsellor: String?, name: String?, expiresAt: UInt64, actor: String, now: UInt64
    ) async throws -> String {
        let code = ServerRegistry.newEnrolmentCode()
        let table = t("enrolment_code")
        try await transaction(client, logger) { c in
            var q = PostgresQuery(
                unsafeSQL: "INSERT INTO \(table) (digest, agency, counsellor, name, expires_at) VALUES ($1, $2, $3, $4, $5)")
            q.binds.append(ServerRegistry.enrolmentCodeDigest(code))
            q.binds.append(agency)
            q.binds.append(counsellor)
            q.binds.append(name)
            q.binds.append(Int64(expiresAt))
            try await c.query(q, logger: logger)
            try await audit(c, at: now, actor: actor, action: "issue-enrolment-code", target: "agency \(agency)")
        }
        return code
    }

    public func redeem(code: String, node: NodeID, publicKey: String, name: String, now: UInt64) async throws -> NodeRecord {
        let codes = t("enrolment_code"), nodes = t("node")
        return try await transaction(client, logger) { c in
            // The row is locked until commit: a second process redeeming the same code waits, then sees it used.
            var q = PostgresQuery(unsafeSQL: "SELECT agency, counsellor, name, expires_at, used_at FROM \(codes) WHERE digest = $1 FOR UPDATE")
            q.binds.append(ServerRegistry.enrolmentCodeDigest(code))
            var found: (String, String?, String?, Int64, Int64?)?
            for try await row in try await c.query(q, logger: logger).decode((String, String?, String?, Int64, Int64?).self) {
                found = row
            }
            guard let (agency, counsellor, label, expiresAt, usedAt) = found else { throw ServerRegistry.EnrolmentRefusal.unknownCode }
            guard usedAt == nil else { throw ServerRegistry.EnrolmentRefusal.usedCode }
            guard UInt64(expiresAt) > now else { throw ServerRegistry.EnrolmentRefusal.expiredCode }
            var insert = PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(nodes) (id, public_key, agency, counsellor, name, status, enrolled_at)
                    VALUES ($1, $2, $3, $4, $5, 'active', $6) ON CONFLICT (id) DO NOTHING RETURNING id
                    """)
            insert.binds.append(node.description)
            insert.binds.append(publicKey)
            insert.binds.append(agency)
            insert.binds.append(counsellor)
            insert.binds.append(label ?? name)
            insert.binds.append(Int64(now))
            var inserted = false
            for try await _ in try await c.query(insert, logger: logger) { inserted = true }
            guard inserted else { throw ServerRegistry.EnrolmentRefusal.nodeAlreadyEnrolled }
            var use = PostgresQuery(unsafeSQL: "UPDATE \(codes) SET used_at = $1, used_by = $2 WHERE digest = $3")
            use.binds.append(Int64(now))
            use.binds.append(node.description)
            use.binds.append(ServerRegistry.enrolmentCodeDigest(code))
            try await c.query(use, logger: logger)
            try await audit(c, at: now, actor: "node \(node)", action: "enrol", target: "agency \(agency)")
            return NodeRecord(
                id: node, publicKey: publicKey, agency: agency, counsellor: counsellor, name: label ?? name, status: .active,
                enrolledAt: now, revokedAt: nil, lastSeen: nil)
        }
    }

    // MARK: - Nodes

    public func node(_ id: NodeID) async throws -> NodeRecord? {
        // The same query as a request's check (whose challenge part is
        // then a lookup of nothing).
        try await node(id, challenge: "", now: 0).node
    }

    /// One query: each is a round trip to the database.
    public func node(_ id: NodeID, challenge nonce: String, now: UInt64) async throws -> (node: NodeRecord?, isChallenge: Bool) {
        var q = PostgresQuery(
            unsafeSQL: """
                SELECT n.public_key, n.agency, n.counsellor, n.name, n.status, n.enrolled_at, n.revoked_at, n.last_seen,
                    n.clock_skew, n.refused, n.agency_wide,
                    EXISTS (SELECT 1 FROM \(t("challenge")) WHERE nonce = $2 AND expires_at >= $3)
                FROM (SELECT 1) AS one LEFT JOIN \(t("node")) n ON n.id = $1
                """)
        q.binds.append(id.description)
        q.binds.append(nonce)
        q.binds.append(Int64(now))
        let rows = try await client.query(q, logger: logger)
            .decode((String?, String?, String?, String?, String?, Int64?, Int64?, Int64?, Int64?, Int64?, Bool?, Bool).self)
        for try await (key, agency, counsellor, name, status, enrolled, revoked, seen, skew, refused, wide, challenge) in rows {
            guard let key, let agency, let name, let status, let enrolled, let refused, let wide else { return (nil, challenge) }
            return (
                NodeRecord(
                    id: id, publicKey: key, agency: agency, counsellor: counsellor, name: name,
                    status: NodeRecord.Status(rawValue: status) ?? .revoked, enrolledAt: UInt64(enrolled),
                    revokedAt: revoked.map(UInt64.init), lastSeen: seen.map(UInt64.init), clockSkew: skew,
                    refused: Int(refused), agencyWide: wide),
                challenge
            )
        }
        return (nil, false)
    }

    public func revoke(_ id: NodeID, actor: String, now: UInt64) async throws -> Bool {
        let nodes = t("node")
        return try await transaction(client, logger) { c in
            var q = PostgresQuery(
                unsafeSQL: "UPDATE \(nodes) SET status = 'revoked', revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING id")
            q.binds.append(Int64(now))
            q.binds.append(id.description)
            var found = false
            for try await _ in try await c.query(q, logger: logger) { found = true }
            guard found else { return false }
            try await audit(c, at: now, actor: actor, action: "revoke", target: "node \(id)")
            return true
        }
    }

    // MARK: - Replay cache

    public func recordNonce(keyID: String, nonce: String, expiresAt: UInt64, now: UInt64) async throws -> Bool {
        let nonces = t("nonce")
        return try await transaction(client, logger) { c in
            var purge = PostgresQuery(unsafeSQL: "DELETE FROM \(nonces) WHERE expires_at < $1")
            purge.binds.append(Int64(now))
            try await c.query(purge, logger: logger)
            var q = PostgresQuery(
                unsafeSQL: "INSERT INTO \(nonces) (keyid, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING keyid")
            q.binds.append(keyID)
            q.binds.append(nonce)
            q.binds.append(Int64(expiresAt))
            var fresh = false
            for try await _ in try await c.query(q, logger: logger) { fresh = true }
            return fresh
        }
    }

    public func nonceCount() async throws -> Int {
        for try await n in try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(t("nonce"))"), logger: logger)
            .decode(Int64.self)
        {
            return Int(n)
        }
        return 0
    }

    // MARK: - Audit

    func audit(_ c: PostgresConnection, at: UInt64, actor: String, action: String, target: String) async throws {
        var q = PostgresQuery(unsafeSQL: "INSERT INTO \(t("audit")) (at, actor, action, target) VALUES ($1, $2, $3, $4)")
        q.binds.append(Int64(at))
        q.binds.append(actor)
        q.binds.append(action)
        q.binds.append(target)
        try await c.query(q, logger: logger)
    }

    public func audit(actor: String, action: String, target: String, at: UInt64) async throws {
        try await client.withConnection { c in try await audit(c, at: at, actor: actor, action: action, target: target) }
    }

    public func auditLog() async throws -> [AuditEntry] {
        var out: [AuditEntry] = []
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT seq, at, actor, action, target FROM \(t("audit")) ORDER BY seq"), logger: logger)
        for try await (seq, at, actor, action, target) in rows.decode((Int64, Int64, String, String, String).self) {
            out.append(AuditEntry(sequence: seq, at: UInt64(at), actor: actor, action: action, target: target))
        }
        return out
    }
}

/// A registry operation that could not complete.
public struct PostgresRegistryError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
