import Crypto
import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Testing

/// `Protocol/vectors/negative.json`: every request a server must refuse,
/// sent to ours over HTTP; each must get its problem code, signed, and
/// change nothing.
struct NegativeVectorTests {
    static func load() throws -> [JSONValue] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("Protocol/vectors/negative.json"))
        return try JSONValue(parsing: Array(data))["vectors"]!.arrayValue!
    }

    @Test(arguments: Backend.available) func everyNegativeVectorIsRefusedWithItsProblem(_ backend: Backend) async throws {
        let all = try Self.load()
        #expect(all.count >= 30)
        try await withServer(backend: backend) { s in
            let laptop = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { laptop.dir.remove() }
            try await laptop.engine.enrol(server: s.url, code: try s.code())
            let node = laptop.store.identity.node.description
            let before = try await s.server.records.lastSequence()
            for v in all {
                let id = v["id"]!.stringValue!
                let r = v["request"]!
                var key = laptop.key
                var keyID = node
                var text = r["body"]?.stringValue
                if v["sign"] == "enrolling" {
                    key = Curve25519.Signing.PrivateKey()
                    keyID = NodeID(rawValue: UInt64.random(in: 1...UInt64.max)).description
                    text = text?.replacingOccurrences(of: "{{publicKey}}", with: Base64URL.encode(key.publicKey.rawRepresentation))
                }
                let body = text.map { Array($0.replacingOccurrences(of: "{{node}}", with: keyID).utf8) }
                var parts = RequestParts(
                    method: r["method"]!.stringValue!, authority: s.authority, path: r["path"]!.stringValue!,
                    query: r["query"]?.stringValue)
                for h in v["headers"]?.arrayValue ?? [] {
                    parts.headers.append(HeaderField(h.arrayValue![0].stringValue!, h.arrayValue![1].stringValue!))
                }
                if let body {
                    parts.headers.append(HeaderField("content-type", "application/json"))
                    if let coding = v["contentEncoding"]?.stringValue { parts.headers.append(HeaderField("content-encoding", coding)) }
                    parts.headers.append(HeaderField("content-digest", v["digest"]?.stringValue ?? ContentDigest.fieldValue(for: body)))
                }
                if v["sign"] != "none" {
                    let components = SigningProfile.requestComponents(
                        hasBody: body != nil, encoded: !parts.values("content-encoding").isEmpty)
                    let params = SignatureParameters(
                        created: Int64(s.clock.millis / 1000), keyID: keyID, algorithm: "ed25519", nonce: Base64URL.nonce(),
                        tag: SigningProfile.requestTag)
                    let base = try SignatureBase.request(parts, covering: components, parameters: params)
                    let signature = try key.signature(for: Data(base.utf8))
                    parts.headers.append(HeaderField("signature-input", "sync=" + (try params.serialized(covering: components))))
                    parts.headers.append(HeaderField("signature", "sync=:\(signature.base64EncodedString()):"))
                }
                let reply = try await s.send(parts, body: body)
                let problem = Problem(body: reply.body)
                #expect(problem?.type.code == v["expect"]!.stringValue!, "\(id): answered \(reply.status) \(problem?.type.code ?? "-")")
                #expect(reply.status == ProblemType.code(v["expect"]!.stringValue!)?.status, "\(id): status")
                #expect(reply.headers.contains { $0.name == "signature" }, "\(id): the answer is unsigned")
            }
            #expect(try await s.server.records.lastSequence() == before, "a refused request changed the server's store")
        }
    }
}
