import Crypto
import Foundation
import NavetteWire

/// A node's Ed25519 key, kept in its directory as `node.key`, readable by
/// its owner only (mode 0600). The private key never leaves the laptop and
/// never appears in exports, logs or errors.
public enum NodeKey {
    public static let fileName = "node.key"

    static func path(_ directory: String) -> String { (directory as NSString).appendingPathComponent(fileName) }

    /// Creates the node's key.
    ///
    /// - Throws: ``SyncError`` when a key already exists.
    @discardableResult
    public static func create(directory: String) throws -> Curve25519.Signing.PrivateKey {
        let p = path(directory)
        guard !FileManager.default.fileExists(atPath: p) else {
            throw SyncError(.notEnrolled, "\(directory) already has a node key")
        }
        let key = Curve25519.Signing.PrivateKey()
        let text = Base64URL.encode(key.rawRepresentation) + "\n"
        guard FileManager.default.createFile(atPath: p, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw SyncError(.notEnrolled, "cannot write the node key in \(directory)") }
        return key
    }

    /// Loads the node's key.
    public static func load(directory: String) throws -> Curve25519.Signing.PrivateKey {
        guard let data = FileManager.default.contents(atPath: path(directory)),
            let raw = Base64URL.decode(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else {
            throw SyncError(.notEnrolled, "\(directory) has no readable node key (\(fileName))")
        }
        return key
    }
}
