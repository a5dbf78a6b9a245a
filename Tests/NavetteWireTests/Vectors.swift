import Foundation
import NavetteCore

/// Reads `Protocol/vectors/<name>.json`.
func vectors(_ name: String) throws -> [JSONValue] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let data = try Data(contentsOf: root.appendingPathComponent("Protocol/vectors/\(name).json"))
    return try JSONValue(parsing: Array(data))["vectors"]!.arrayValue!
}

/// Decodes base64url without padding.
func base64URL(_ s: String) -> Data {
    var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while t.count % 4 != 0 { t += "=" }
    return Data(base64Encoded: t)!
}
