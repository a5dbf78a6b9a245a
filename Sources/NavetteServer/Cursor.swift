import Crypto
import Foundation
import NavetteCore
import NavetteWire

/// A pull cursor: the server's incarnation and a log sequence, MAC'd with
/// a server secret and bound to one node and its agency, so that it cannot
/// be forged, edited, or used by another node.
///
/// Text form: `v1.<incarnation>.<sequence>.<view epoch>.<mac>` (the MAC
/// in base64url). The view epoch tells which change of view the node
/// received: pulling again with it confirms it.
struct Cursor: Hashable, Sendable {
    var incarnation: String
    var sequence: Int64
    var epoch: Int64

    func encoded(secret: SymmetricKey, node: NodeID, agency: String) -> String {
        let payload = "v1.\(incarnation).\(sequence).\(epoch)"
        return payload + "." + Self.mac(payload, secret: secret, node: node, agency: agency)
    }

    static func mac(_ payload: String, secret: SymmetricKey, node: NodeID, agency: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(payload)|\(node)|\(agency)".utf8), using: secret)
        return Base64URL.encode(Array(mac).prefix(16))
    }

    enum Failure: Error { case malformed, forged }

    /// Reads a cursor, checking its MAC in constant time.
    init(_ text: String, secret: SymmetricKey, node: NodeID, agency: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "v1", let seq = Int64(parts[2]), seq >= 0, let epoch = Int64(parts[3]),
            epoch >= 0, !parts[1].isEmpty
        else {
            throw Failure.malformed
        }
        let payload = parts[0...3].joined(separator: ".")
        let expected = Self.mac(payload, secret: secret, node: node, agency: agency)
        guard safeCompare(Array(expected.utf8), Array(parts[4].utf8)) else { throw Failure.forged }
        incarnation = String(parts[1])
        sequence = seq
        self.epoch = epoch
    }

    init(incarnation: String, sequence: Int64, epoch: Int64) {
        self.incarnation = incarnation
        self.sequence = sequence
        self.epoch = epoch
    }
}
