import Foundation
import NavetteClient
import NavetteCore
import NavetteStore
import NavetteWire
import Testing

/// `Protocol/vectors/pull.json`: a node applies a pull page the way the
/// protocol says, and ends up holding exactly the expected records.
struct PullVectorTests {
    @Test func everyPullVectorLeavesTheNodeWithItsRecords() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("Protocol/vectors/pull.json"))
        let all = try JSONValue(parsing: Array(data))["vectors"]!.arrayValue!
        #expect(all.count >= 4)
        for v in all {
            let id = v["id"]!.stringValue!
            let store = try RecordStore.inMemory(
                identity: NodeIdentity(node: NodeID(rawValue: 0xA1), name: "vector", agency: "075-paris-12"))
            _ = try store.apply(try v["held"]!.arrayValue!.map { try Change(json: $0) })
            let page = try PullResponse(body: v["page"]!.canonicalBytes)
            _ = try SyncEngine.apply(page, to: store)
            let records = CanonicalExport.document(
                records: try store.allStates().map { ($0.collection, $0.id, $0.state) }, schema: .navette)["records"]!
            #expect(records.canonicalString == v["records"]!.canonicalString, "\(id)")
        }
    }
}
