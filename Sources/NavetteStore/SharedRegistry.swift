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
}
