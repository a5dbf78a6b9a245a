import Crypto
import Foundation
import NavetteCore
import NavetteWire
import Testing

/// `Protocol/vectors/encoding.json`, made by an independent Python
/// reference: every vector must reproduce, and a failure names its id.
struct EncodingVectorTests {
    @Test func everyEncodingVectorHolds() throws {
        let all = try vectors("encoding")
        #expect(all.count > 20)
        for v in all {
            let id = v["id"]!.stringValue!
            switch v["kind"]!.stringValue! {
            case "canonical":
                let parsed = try JSONValue(parsing: v["input"]!.stringValue!)
                #expect(parsed.canonicalString == v["canonical"]!.stringValue!, "\(id)")
            case "refuse-json":
                #expect(throws: JSONParsingError.self, "\(id)") {
                    try JSONValue(parsing: v["input"]!.stringValue!, limits: JSONParsingLimits(maximumDepth: MessageLimits.maximumDepth))
                }
            case "timestamp":
                let t = Timestamp(wallMillis: UInt64(v["wallMillis"]!.intValue!), counter: UInt16(v["counter"]!.intValue!))
                #expect(t.description == v["text"]!.stringValue!, "\(id)")
                #expect(Timestamp(v["text"]!.stringValue!) == t, "\(id): parsing")
            case "timestamp-text":
                #expect((Timestamp(v["text"]!.stringValue!) != nil) == v["valid"]!.boolValue!, "\(id)")
            case "change-id":
                let parsed = ChangeID(v["text"]!.stringValue!)
                #expect((parsed != nil) == v["valid"]!.boolValue!, "\(id)")
                if let parsed { #expect(parsed.description == v["text"]!.stringValue!, "\(id): round trip") }
            case "registration":
                let record = RecordKeys.registration(session: v["session"]!.stringValue!, seeker: v["seeker"]!.stringValue!)
                #expect(record == v["record"]!.stringValue!, "\(id)")
            case "content-digest":
                let body = Array(Data(base64Encoded: v["bodyBase64"]!.stringValue!)!)
                #expect(ContentDigest.fieldValue(for: body) == v["field"]!.stringValue!, "\(id)")
                #expect(throws: Never.self, "\(id): verification") { try ContentDigest.verify([v["field"]!.stringValue!], body: body) }
            case let kind:
                Issue.record("\(id): unknown kind \(kind)")
            }
        }
    }
}
