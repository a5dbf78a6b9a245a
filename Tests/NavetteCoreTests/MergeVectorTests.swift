import Foundation
import NavetteCore
import Testing

/// `Protocol/vectors/merge.json`, written by hand from the spec's rules:
/// every delivery order, once and twice, must export the expected record.
struct MergeVectorTests {
    static func load() throws -> [JSONValue] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("Protocol/vectors/merge.json"))
        return try JSONValue(parsing: Array(data))["vectors"]!.arrayValue!
    }

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i -> [[T]] in
            var rest = items
            let first = rest.remove(at: i)
            return permutations(rest).map { [first] + $0 }
        }
    }

    @Test func everyMergeVectorExportsTheSameInEveryOrder() throws {
        let all = try Self.load()
        #expect(all.count >= 15)
        for v in all {
            let id = v["id"]!.stringValue!
            let start = try v["start"]!.arrayValue!.map { try Change(json: $0) }
            let changes = try v["changes"]!.arrayValue!.map { try Change(json: $0) }
            let expected = v["export"]!.canonicalString
            let collection = changes[0].collection, record = changes[0].record
            var orders = 0
            for order in Self.permutations(changes) {
                for repeated in [order, order + order.reversed()] {
                    var state = RecordState()
                    for c in start + repeated { state.apply(c) }
                    let export = CanonicalExport.record(collection: collection, id: record, state: state, schema: .navette)
                    #expect(export.canonicalString == expected, "\(id): order \(repeated.map(\.id.description))")
                }
                orders += 1
            }
            // The state merged from two halves agrees too (CHG-005: a snapshot merges, never replaces).
            var left = RecordState(), right = RecordState()
            for c in start { left.apply(c) }
            for (n, c) in changes.enumerated() { if n % 2 == 0 { left.apply(c) } else { right.apply(c) } }
            let merged = CanonicalExport.record(collection: collection, id: record, state: left.merging(right), schema: .navette)
            #expect(merged.canonicalString == expected, "\(id): merged halves")
            #expect(orders >= 1)
        }
    }
}
