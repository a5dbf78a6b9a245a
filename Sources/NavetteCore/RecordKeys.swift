import Crypto

/// Record ids: random UUIDs where one node creates a record, keys derived
/// by hashing where two offline nodes must create the same record.
public enum RecordKeys {
    /// A new random record id, a lowercase RFC 9562 version-4 UUID.
    public static func random(using generator: inout some RandomNumberGenerator) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in stride(from: 0, to: 16, by: 8) {
            withUnsafeBytes(of: generator.next()) { raw in
                for k in 0..<8 { bytes[i + k] = raw[k] }
            }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return uuidString(bytes)
    }

    /// The id of the registration of `seeker` to `session`: the same on
    /// every node, so that two counsellors registering the same person
    /// offline make one record.
    ///
    /// It is the first 16 bytes of SHA-256 over
    /// `"navette/registration/v1\0" + session + "\0" + seeker` (UTF-8),
    /// formatted as an RFC 9562 version-8 UUID.
    ///
    /// ```swift
    /// RecordKeys.registration(session: s, seeker: p) == RecordKeys.registration(session: s, seeker: p)
    /// ```
    public static func registration(session: String, seeker: String) -> String {
        var input = Array("navette/registration/v1".utf8)
        input.append(0)
        input += Array(session.utf8)
        input.append(0)
        input += Array(seeker.utf8)
        var bytes = Array(SHA256.hash(data: input).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return uuidString(bytes)
    }

    /// Whether `id` is a record id: a lowercase UUID, or a reference-data
    /// code (letters, digits, `-`, `_`, 1 to 64 bytes).
    public static func isValidID(_ id: String) -> Bool {
        let u = id.utf8
        guard !u.isEmpty, u.count <= 64 else { return false }
        return u.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
        }
    }

    static func uuidString(_ b: [UInt8]) -> String {
        let hex = b.map { byte -> String in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-"
            + hex[8..<10].joined() + "-" + hex[10..<16].joined()
    }
}
