import Foundation
import NavetteConformance
import NavetteCore
import NavetteWire
import Testing

/// `Protocol/` holds together: every MUST has an id, every id is exercised
/// by the conformance tool or a vector, and every problem the server can
/// answer is in the spec.
struct SpecCoverageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Protocol")

    static func specFiles() throws -> [(name: String, text: String)] {
        let dir = root.appendingPathComponent("spec")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".md") }.sorted().map {
            ($0, try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8))
        }
    }

    /// The requirement ids the spec defines, in bold: `**SYNC-012**`.
    static func specIDs() throws -> [String] {
        let regex = try NSRegularExpression(pattern: #"\*\*([A-Z]+-[0-9]{3})\*\*"#)
        return try specFiles().flatMap { _, text in
            regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
                String(text[Range($0.range(at: 1), in: text)!])
            }
        }
    }

    static func vectorIDs() throws -> Set<String> {
        let dir = root.appendingPathComponent("vectors")
        var ids: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".json") {
            let doc = try JSONValue(parsing: Array(try Data(contentsOf: dir.appendingPathComponent(name))))
            for v in doc["vectors"]?.arrayValue ?? [] {
                let reqs = v["requirements"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(!reqs.isEmpty, "\(name): vector \(v["id"] ?? "?") names no requirement")
                ids.formUnion(reqs)
            }
        }
        return ids
    }

    @Test func everyMustHasAnIdAndEveryIdIsUnique() throws {
        let ids = try Self.specIDs()
        #expect(ids.count >= 60)
        #expect(Set(ids).count == ids.count, "an id is defined twice: \(Dictionary(grouping: ids) { $0 }.filter { $1.count > 1 }.keys.sorted())")
        // A paragraph or list item that says MUST names the requirement it states.
        for (name, text) in try Self.specFiles() {
            var blocks: [String] = []
            var current = ""
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("- ") || line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") {
                    blocks.append(current)
                    current = ""
                }
                current += line + "\n"
            }
            blocks.append(current)
            for block in blocks where block.contains("MUST") && !block.contains("key words MUST") && !block.contains("Every MUST of") {
                #expect(block.range(of: #"\*\*[A-Z]+-[0-9]{3}\*\*"#, options: .regularExpression) != nil,
                        "\(name): a MUST without a requirement id: \(block.prefix(100))")
            }
        }
    }

    @Test func everyRequirementIsExercisedByTheConformanceToolOrAVector() throws {
        let spec = Set(try Self.specIDs())
        let tool = Set(ConformanceRun.requirements.keys)
        let vectors = try Self.vectorIDs()
        #expect(spec.subtracting(tool.union(vectors)).sorted() == [], "requirements nothing exercises")
        #expect(tool.subtracting(spec).sorted() == [], "the tool checks ids the spec does not define")
        #expect(vectors.subtracting(spec).sorted() == [], "vectors name ids the spec does not define")
    }

    @Test func everyProblemTheServerCanAnswerIsInTheSpecAndTheSchema() throws {
        let errors = try Self.specFiles().first { $0.name.hasPrefix("09") }!.text
        var table: [String: Int] = [:]
        for line in errors.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if let status = Int(cells[1]) { table[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = status }
        }
        let server = Dictionary(uniqueKeysWithValues: ProblemType.all.map { ($0.code, $0.status) })
        #expect(table == server, "the spec's table of problems and the server's differ")
        let schema = try JSONValue(parsing: Array(try Data(contentsOf: Self.root.appendingPathComponent("schemas/problem.json"))))
        let types = Set(schema["properties"]!["type"]!["enum"]!.arrayValue!.compactMap(\.stringValue))
        #expect(types == Set(ProblemType.all.map(\.uri)), "schemas/problem.json lists other types")
    }
}
