import Foundation
import NavetteCore
import NavetteStore
import PostgresNIO

// The rest of what the sync server keeps beside its records: views held,
// batch answers, challenges and the erasure ledger. The same statements as
// `ServerRegistry`'s, one transaction per operation.
extension PostgresRegistry {
    public func setSecret(_ name: String, _ value: [UInt8]) async throws {
        try await client.query(
            """
            INSERT INTO \(unescaped: t("secret")) (name, value) VALUES (\(name), \(ByteBuffer(bytes: value)))
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """, logger: logger)
    }

    public func existingSecret(_ name: String) async throws -> [UInt8]? {
        let rows = try await client.query("SELECT value FROM \(unescaped: t("secret")) WHERE name = \(name)", logger: logger)
        for try await value in rows.decode(ByteBuffer.self) { return Array(value.readableBytesView) }
        return nil
    }

    public func nodes() async throws -> [NodeRecord] {
        var out: [NodeRecord] = []
        let rows = try await client.query(
            """
            SELECT id, public_key, agency, counsellor, name, status, enrolled_at, revoked_at, last_seen, clock_skew, refused, agency_wide
            FROM \(unescaped: t("node")) ORDER BY agency, id
            """, logger: logger)
        for try await (id, key, agency, counsellor, name, status, enrolled, revoked, seen, skew, refused, wide) in rows.decode(
            (String, String, String, String?, String, String, Int64, Int64?, Int64?, Int64?, Int64, Bool).self)
        {
            guard let id = NodeID(id) else { continue }
            out.append(
                NodeRecord(
                    id: id, publicKey: key, agency: agency, counsellor: counsellor, name: name,
                    status: NodeRecord.Status(rawValue: status) ?? .revoked, enrolledAt: UInt64(enrolled),
                    revokedAt: revoked.map(UInt64.init), lastSeen: seen.map(UInt64.init), clockSkew: skew, refused: Int(refused),
                    agencyWide: wide))
        }
        return out
    }

    public func touch(_ id: NodeID, at: UInt64, clockSkew: Int64) async throws {
        try await client.query(
            "UPDATE \(unescaped: t("node")) SET last_seen = \(Int64(at)), clock_skew = \(clockSkew) WHERE id = \(id.description)",
            logger: logger)
    }

    public func setAgencyWide(_ id: NodeID, _ wide: Bool, actor: String, now: UInt64) async throws -> Bool {
        let nodes = t("node")
        return try await transaction(client, logger) { c in
            let rows = try await c.query(
                "UPDATE \(unescaped: nodes) SET agency_wide = \(wide) WHERE id = \(id.description) RETURNING id", logger: logger)
            var found = false
            for try await _ in rows { found = true }
            guard found else { return false }
            try await audit(c, at: now, actor: actor, action: wide ? "view-widen" : "view-narrow", target: "node \(id)")
            return true
        }
    }

    // MARK: - Views held

    public func confirmedView(_ node: NodeID) async throws -> [RecordRef: Bool] {
        var out: [RecordRef: Bool] = [:]
        let rows = try await client.query(
            "SELECT collection, record, stub FROM \(unescaped: t("node_view")) WHERE node = \(node.description)", logger: logger)
        for try await (collection, record, stub) in rows.decode((String, String, Bool).self) {
            out[RecordRef(collection, record)] = stub
        }
        return out
    }

    public func holders(of ref: RecordRef) async throws -> [NodeID] {
        var out: [NodeID] = []
        let rows = try await client.query(
            """
            SELECT node FROM \(unescaped: t("node_view")) WHERE collection = \(ref.collection) AND record = \(ref.id) ORDER BY node
            """, logger: logger)
        for try await node in rows.decode(String.self) { if let id = NodeID(node) { out.append(id) } }
        return out
    }

    public func confirmView(_ node: NodeID, epoch: Int64?) async throws -> Int64 {
        let views = t("node_view"), pendingTable = t("node_view_pending"), epochs = t("node_view_epoch")
        let id = node.description
        // Most pulls have no change of view to confirm: then one query, with
        // no transaction (the one below would read the same, and lock nothing).
        for try await (current, hasPending) in try await client.query(
            """
            SELECT coalesce((SELECT epoch FROM \(unescaped: epochs) WHERE node = \(id)), 0),
                   EXISTS (SELECT 1 FROM \(unescaped: pendingTable) WHERE node = \(id))
            """, logger: logger
        ).decode((Int64, Bool).self) where !hasPending {
            return current
        }
        return try await transaction(client, logger) { c in
            var current: Int64 = 0
            for try await e in try await c.query("SELECT epoch FROM \(unescaped: epochs) WHERE node = \(id)", logger: logger)
                .decode(Int64.self)
            {
                current = e
            }
            var pending: (Int64, String, String)?
            let rows = try await c.query(
                "SELECT epoch, entering, leaving FROM \(unescaped: pendingTable) WHERE node = \(id) FOR UPDATE", logger: logger)
            for try await row in rows.decode((Int64, String, String).self) { pending = row }
            guard let (sent, entering, leaving) = pending else { return current }
            if epoch == sent {
                // Leaving first: a file that became a stub leaves whole and enters as a stub.
                for item in (try? JSONValue(parsing: leaving))?.arrayValue ?? [] {
                    guard let col = item["c"]?.stringValue, let rec = item["r"]?.stringValue else { continue }
                    try await c.query(
                        "DELETE FROM \(unescaped: views) WHERE node = \(id) AND collection = \(col) AND record = \(rec)", logger: logger)
                }
                for item in (try? JSONValue(parsing: entering))?.arrayValue ?? [] {
                    guard let col = item["c"]?.stringValue, let rec = item["r"]?.stringValue else { continue }
                    let stub = item["s"]?.boolValue ?? false
                    try await c.query(
                        """
                        INSERT INTO \(unescaped: views) (node, collection, record, stub) VALUES (\(id), \(col), \(rec), \(stub))
                        ON CONFLICT (node, collection, record) DO UPDATE SET stub = excluded.stub
                        """, logger: logger)
                }
            }
            try await c.query("DELETE FROM \(unescaped: pendingTable) WHERE node = \(id)", logger: logger)
            return current
        }
    }

    public func sendView(_ node: NodeID, entering: [RecordRef: Bool], leaving: [RecordRef]) async throws -> Int64 {
        let pendingTable = t("node_view_pending"), epochs = t("node_view_epoch")
        let id = node.description
        let e = JSONValue.array(entering.map { ["c": .string($0.key.collection), "r": .string($0.key.id), "s": .bool($0.value)] })
            .canonicalString
        let l = JSONValue.array(leaving.map { ["c": .string($0.collection), "r": .string($0.id)] }).canonicalString
        return try await transaction(client, logger) { c in
            var epoch: Int64 = 1
            let rows = try await c.query(
                """
                INSERT INTO \(unescaped: epochs) (node, epoch) VALUES (\(id), 1)
                ON CONFLICT (node) DO UPDATE SET epoch = \(unescaped: epochs).epoch + 1 RETURNING epoch
                """, logger: logger)
            for try await value in rows.decode(Int64.self) { epoch = value }
            try await c.query(
                """
                INSERT INTO \(unescaped: pendingTable) (node, epoch, entering, leaving) VALUES (\(id), \(epoch), \(e), \(l))
                ON CONFLICT (node) DO UPDATE SET epoch = excluded.epoch, entering = excluded.entering, leaving = excluded.leaving
                """, logger: logger)
            return epoch
        }
    }

    public func resetView(_ node: NodeID) async throws {
        let views = t("node_view"), pendingTable = t("node_view_pending")
        try await transaction(client, logger) { c in
            try await c.query("DELETE FROM \(unescaped: views) WHERE node = \(node.description)", logger: logger)
            try await c.query("DELETE FROM \(unescaped: pendingTable) WHERE node = \(node.description)", logger: logger)
        }
    }

    // MARK: - Erasure ledger

    public func recordErasure(_ refs: [RecordRef], actor: String, now: UInt64) async throws {
        let ledger = t("erasure")
        try await transaction(client, logger) { c in
            for ref in refs {
                try await c.query(
                    """
                    INSERT INTO \(unescaped: ledger) (collection, record, at, actor) VALUES (\(ref.collection), \(ref.id), \(Int64(now)), \(actor))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            if let first = refs.first {
                try await audit(c, at: now, actor: actor, action: "erase", target: "\(first) and \(refs.count - 1) linked records")
            }
        }
    }

    public func erasures() async throws -> [(record: RecordRef, at: UInt64)] {
        var out: [(record: RecordRef, at: UInt64)] = []
        let rows = try await client.query(
            "SELECT collection, record, at FROM \(unescaped: t("erasure")) ORDER BY at, collection, record", logger: logger)
        for try await (collection, record, at) in rows.decode((String, String, Int64).self) {
            out.append((RecordRef(collection, record), UInt64(at)))
        }
        return out
    }

    // MARK: - Replay cache and challenges

    public func hasNonce(keyID: String, nonce: String) async throws -> Bool {
        let rows = try await client.query(
            "SELECT 1 FROM \(unescaped: t("nonce")) WHERE keyid = \(keyID) AND nonce = \(nonce)", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    public func admit(
        keyID: String, nonce: String, expiresAt: UInt64, node: NodeID, clockSkew: Int64, now: UInt64
    ) async throws -> Bool {
        let nonces = t("nonce"), nodes = t("node")
        // One statement, so one round trip and one atomic write: expired
        // nonces go, the pair goes in (over an expired copy of itself, as
        // after that deletion), and the node's last-seen time moves only if
        // it went in. A live copy of the pair makes it a replay.
        let rows = try await client.query(
            """
            WITH expired AS (
                DELETE FROM \(unescaped: nonces) WHERE expires_at < \(Int64(now)) AND NOT (keyid = \(keyID) AND nonce = \(nonce))
            ), fresh AS (
                INSERT INTO \(unescaped: nonces) AS n (keyid, nonce, expires_at) VALUES (\(keyID), \(nonce), \(Int64(expiresAt)))
                ON CONFLICT (keyid, nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE n.expires_at < \(Int64(now))
                RETURNING keyid
            ), seen AS (
                UPDATE \(unescaped: nodes) SET last_seen = \(Int64(now)), clock_skew = \(clockSkew)
                WHERE id = \(node.description) AND EXISTS (SELECT 1 FROM fresh)
                RETURNING id
            )
            SELECT count(*) FROM fresh
            """, logger: logger)
        for try await count in rows.decode(Int64.self) { return count > 0 }
        return false
    }

    public func issueChallenge(_ nonce: String, expiresAt: UInt64, now: UInt64) async throws {
        let challenges = t("challenge")
        try await transaction(client, logger) { c in
            try await c.query("DELETE FROM \(unescaped: challenges) WHERE expires_at < \(Int64(now))", logger: logger)
            try await c.query(
                "INSERT INTO \(unescaped: challenges) (nonce, expires_at) VALUES (\(nonce), \(Int64(expiresAt)))", logger: logger)
        }
    }

    public func isChallenge(_ nonce: String, now: UInt64) async throws -> Bool {
        let rows = try await client.query(
            "SELECT 1 FROM \(unescaped: t("challenge")) WHERE nonce = \(nonce) AND expires_at >= \(Int64(now))", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    public func consumeChallenge(_ nonce: String) async throws -> Bool {
        let rows = try await client.query(
            "DELETE FROM \(unescaped: t("challenge")) WHERE nonce = \(nonce) RETURNING nonce", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    // MARK: - Batches

    public func recordPush(
        node: NodeID, batch: String, response: [UInt8], refused: Int, created: [RecordRef], logSequence: Int64, now: UInt64
    ) async throws {
        let batches = t("batch"), nodes = t("node"), views = t("node_view"), secrets = t("secret")
        let id = node.description
        let mark = ByteBuffer(bytes: Self.logHighWaterBytes(logSequence))
        // One statement, so one round trip and one atomic write. The
        // high-water mark is only ever raised (bytes compare as the
        // big-endian numbers they hold).
        try await client.query(
            """
            WITH answer AS (
                INSERT INTO \(unescaped: batches) (node, batch, response, at) VALUES (\(id), \(batch), \(ByteBuffer(bytes: response)), \(Int64(now)))
                ON CONFLICT (node, batch) DO UPDATE SET response = excluded.response, at = excluded.at
            ), counted AS (
                UPDATE \(unescaped: nodes) SET refused = refused + \(Int64(refused)) WHERE id = \(id) AND \(Int64(refused)) > 0
            ), held AS (
                INSERT INTO \(unescaped: views) (node, collection, record, stub)
                SELECT \(id), c, r, FALSE FROM unnest(\(created.map(\.collection)), \(created.map(\.id))) AS k(c, r)
                ON CONFLICT DO NOTHING
            )
            INSERT INTO \(unescaped: secrets) (name, value) VALUES (\(Self.logHighWaterName), \(mark))
            ON CONFLICT (name) DO UPDATE SET value = greatest(\(unescaped: secrets).value, excluded.value)
            """, logger: logger)
    }

    public func batchResponse(node: NodeID, batch: String) async throws -> [UInt8]? {
        let rows = try await client.query(
            "SELECT response FROM \(unescaped: t("batch")) WHERE node = \(node.description) AND batch = \(batch)", logger: logger)
        for try await value in rows.decode(ByteBuffer.self) { return Array(value.readableBytesView) }
        return nil
    }
}
