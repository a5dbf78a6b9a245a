import Foundation
import Testing

/// The module arrows and Core's purity, checked on the sources.
struct ArchitectureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func imports(of module: String) throws -> Set<String> {
        let dir = root.appendingPathComponent("Sources/\(module)")
        var out: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                out.insert(String(line.dropFirst("import ".count)).trimmingCharacters(in: .whitespaces))
            }
        }
        return out
    }

    @Test func coreImportsOnlyCryptoAndDoesNoIO() throws {
        #expect(try Self.imports(of: "NavetteCore").subtracting(["Crypto"]).isEmpty)
        let forbidden = ["Date(", "FileManager", "ProcessInfo", "URLSession", "DispatchQueue", "SystemRandomNumberGenerator", "getenv"]
        let dir = Self.root.appendingPathComponent("Sources/NavetteCore")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            for word in forbidden {
                let pattern = try NSRegularExpression(pattern: "\\b" + NSRegularExpression.escapedPattern(for: word))
                let found = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                #expect(!found, "\(name) uses \(word)")
            }
        }
    }

    @Test func arrowsRunOneWay() throws {
        #expect(try Self.imports(of: "NavetteStore").intersection(["NavetteTesting", "ArgumentParser", "navette"]).isEmpty)
        #expect(try Self.imports(of: "NavetteTesting").intersection(["ArgumentParser", "navette"]).isEmpty)
        #expect(try !Self.imports(of: "NavetteCore").contains("GRDB"))
        // Only the store touches GRDB.
        #expect(try !Self.imports(of: "navette").contains("GRDB"))
        #expect(try !Self.imports(of: "NavetteTesting").contains("GRDB"))
    }
}
