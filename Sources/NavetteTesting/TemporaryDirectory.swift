import Foundation

/// A fresh directory under the system's temporary directory, removed by
/// ``remove()``.
public struct TemporaryDirectory: Sendable {
    public let path: String

    /// Creates a new, empty directory whose name starts with `prefix`.
    public init(prefix: String = "navette") throws {
        let base = FileManager.default.temporaryDirectory.path
        var rng = SystemRandomNumberGenerator()
        let name = "\(prefix)-\(String(rng.next(), radix: 36))"
        path = (base as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func appending(_ component: String) -> String {
        (path as NSString).appendingPathComponent(component)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
