import Crypto
import NavetteCore

/// The part of the server's registry every server process must share when
/// several run on one database: its secrets (the signing key), enrolment
/// codes, the node registry with revocation, the replay cache, and the
/// audit log.
///
/// ``ServerRegistry`` (SQLite, one server process) and `PostgresRegistry`
/// (`NavettePostgres`, several) implement it, and one contract test suite
/// runs against both.
public protocol SharedRegistry: Sendable {
    /// The secret named `name`, made of `bytes` random bytes on first use;
    /// the same for every process from then on.
    func secret(_ name: String, bytes: Int) async throws -> [UInt8]
    /// Issues a one-time enrolment code; only its digest is stored.
    func issueCode(
        agency: String, counsellor: String?, name: String?, expiresAt: UInt64, actor: String, now: UInt64
    ) async throws -> String
    /// Redeems a code and enrols `node`, atomically.
    ///
    /// - Throws: ``ServerRegistry/EnrolmentRefusal``.
    func redeem(code: String, node: NodeID, publicKey: String, name: String, now: UInt64) async throws -> NodeRecord
    /// The node with this id, if enrolled (active or revoked).
    func node(_ id: NodeID) async throws -> NodeRecord?
    /// What checking a request reads, together: the node with this id (as
    /// ``node(_:)``), and whether `nonce` is a live, unused challenge (as
    /// ``isChallenge(_:now:)``). A registry may read both at once.
    func node(_ id: NodeID, challenge nonce: String, now: UInt64) async throws -> (node: NodeRecord?, isChallenge: Bool)
    /// Revokes a node. Returns `false` when no such node is enrolled.
    func revoke(_ id: NodeID, actor: String, now: UInt64) async throws -> Bool
    /// Records a `(keyid, nonce)` pair until `expiresAt`, dropping expired
    /// ones. Returns `false` when the pair was already recorded: a replay.
    func recordNonce(keyID: String, nonce: String, expiresAt: UInt64, now: UInt64) async throws -> Bool
    /// How many nonces the replay cache holds.
    func nonceCount() async throws -> Int
    /// Appends to the audit log (ids only, never personal values).
    func audit(actor: String, action: String, target: String, at: UInt64) async throws
    /// The audit log, oldest first.
    func auditLog() async throws -> [AuditEntry]

    // MARK: What the sync server keeps beside

    /// Replaces the secret named `name`.
    func setSecret(_ name: String, _ value: [UInt8]) async throws
    /// The secret named `name`, if it was ever set.
    func existingSecret(_ name: String) async throws -> [UInt8]?
    /// Every enrolled node, by agency then id.
    func nodes() async throws -> [NodeRecord]
    /// Notes when a node was last heard from, and how far off its clock was.
    func touch(_ id: NodeID, at: UInt64, clockSkew: Int64) async throws
    /// Widens a node's view to its whole agency, or narrows it back.
    /// Returns `false` when no such node is enrolled.
    func setAgencyWide(_ id: NodeID, _ wide: Bool, actor: String, now: UInt64) async throws -> Bool
    /// What `node` holds, as it confirmed: each record, `true` for a stub.
    func confirmedView(_ node: NodeID) async throws -> [RecordRef: Bool]
    /// The nodes that still hold `ref`, as far as the server knows.
    func holders(of ref: RecordRef) async throws -> [NodeID]
    /// Confirms the change of view sent with `epoch` (or forgets it, when
    /// the node pulled with another); returns the current epoch.
    func confirmView(_ node: NodeID, epoch: Int64?) async throws -> Int64
    /// Records a change of view sent to `node`; returns the epoch its next
    /// cursor carries.
    func sendView(_ node: NodeID, entering: [RecordRef: Bool], leaving: [RecordRef]) async throws -> Int64
    /// Forgets what a node holds (it starts again from snapshots).
    func resetView(_ node: NodeID) async throws
    /// Records erasures in the ledger (ids only) and the audit log.
    func recordErasure(_ refs: [RecordRef], actor: String, now: UInt64) async throws
    /// The erasure ledger, oldest first.
    func erasures() async throws -> [(record: RecordRef, at: UInt64)]
    /// Whether `(keyID, nonce)` is in the replay cache.
    func hasNonce(keyID: String, nonce: String) async throws -> Bool
    /// Records a verified request's nonce and the node's last-seen time in
    /// one transaction; `false` (nothing written) for a replay.
    func admit(keyID: String, nonce: String, expiresAt: UInt64, node: NodeID, clockSkew: Int64, now: UInt64) async throws -> Bool
    /// Records what a push did: its answer (a retry gets the same), the
    /// changes refused, the records the node created (it holds them), and
    /// the log's last sequence after it (a record store restored from an
    /// older backup is one whose log ends before it).
    func recordPush(
        node: NodeID, batch: String, response: [UInt8], refused: Int, created: [RecordRef], logSequence: Int64, now: UInt64
    ) async throws
    /// The answer already given to `batch` from `node`, if any.
    func batchResponse(node: NodeID, batch: String) async throws -> [UInt8]?
    /// Keeps `nonce`, made by the server, as a single-use challenge valid
    /// until `expiresAt`, for a node whose clock is wrong.
    func issueChallenge(_ nonce: String, expiresAt: UInt64, now: UInt64) async throws
    /// Whether `nonce` is a live, unused challenge.
    func isChallenge(_ nonce: String, now: UInt64) async throws -> Bool
    /// Uses a challenge up; `false` when it was already used.
    func consumeChallenge(_ nonce: String) async throws -> Bool
}

extension SharedRegistry {
    public func node(_ id: NodeID, challenge nonce: String, now: UInt64) async throws -> (node: NodeRecord?, isChallenge: Bool) {
        (try await node(id), try await isChallenge(nonce, now: now))
    }

    /// The greatest log sequence a push was ever acknowledged at (0 before
    /// the first push).
    public func logHighWater() async throws -> Int64 {
        guard let bytes = try await existingSecret(Self.logHighWaterName), bytes.count == 8 else { return 0 }
        return Int64(bitPattern: bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    /// The secret row the log's high-water mark is kept in.
    public static var logHighWaterName: String { "log-high-water" }

    /// Its 8 big-endian bytes.
    public static func logHighWaterBytes(_ sequence: Int64) -> [UInt8] {
        let v = UInt64(bitPattern: sequence)
        return (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) }
    }
}

extension ServerRegistry: SharedRegistry {}

extension ServerRegistry {
    /// A new enrolment code, `XXXX-XXXX-XXXX` in Crockford's base32 (60
    /// random bits).
    public static func newEnrolmentCode() -> String {
        var rng = SystemRandomNumberGenerator()
        let chars = (0..<12).map { _ in codeAlphabet[Int.random(in: 0..<32, using: &rng)] }
        return String(chars[0..<4]) + "-" + String(chars[4..<8]) + "-" + String(chars[8..<12])
    }

    /// The digest a code is stored under (after normalising what was typed).
    public static func enrolmentCodeDigest(_ code: String) -> String { digest(code) }

    /// The server store's own node id, made of the registry's `node-id`
    /// secret: the same for every process sharing the registry.
    public static func serverNodeID(secret bytes: [UInt8]) -> NodeID {
        NodeID(rawValue: bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    /// The name and size of that secret.
    public static let serverNodeSecret = (name: "node-id", bytes: 8)
}
