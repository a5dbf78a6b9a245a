import Crypto
import Foundation
import NavetteCore
import NavetteWire
import Testing

/// The signature vectors of `Protocol/vectors/signatures.json`, reproduced
/// byte for byte (Ed25519 over BoringSSL is deterministic).
struct SignatureVectorTests {
    @Test func everyVectorReproducesByteForByte() throws {
        for v in try vectors("signatures") {
            let id = v["id"]!.stringValue!
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: base64URL(v["privateKey"]!.stringValue!))
            #expect(key.publicKey.rawRepresentation == base64URL(v["publicKey"]!.stringValue!), "\(id): public key")
            let r = v["request"]!
            let request = RequestParts(
                method: r["method"]!.stringValue!, authority: r["authority"]!.stringValue!, path: r["path"]!.stringValue!,
                query: r["query"]?.stringValue,
                headers: r["headers"]!.arrayValue!.map { HeaderField($0.arrayValue![0].stringValue!, $0.arrayValue![1].stringValue!) })
            let components = v["components"]!.arrayValue!.map { CoveredComponent($0.stringValue!) }
            var params = SignatureParameters()
            var order: [String] = []
            for p in v["parameters"]!.arrayValue! {
                let name = p.arrayValue![0].stringValue!
                order.append(name)
                switch name {
                case "created": params.created = p.arrayValue![1].intValue
                case "keyid": params.keyID = p.arrayValue![1].stringValue
                case "nonce": params.nonce = p.arrayValue![1].stringValue
                case "alg": params.algorithm = p.arrayValue![1].stringValue
                case "tag": params.tag = p.arrayValue![1].stringValue
                default: Issue.record("\(id): unknown parameter \(name)")
                }
            }
            params.order = order
            let base = try SignatureBase.request(request, covering: components, parameters: params)
            #expect(base == v["signatureBase"]!.stringValue!, "\(id): signature base")
            let label = v["label"]!.stringValue!
            #expect("\(label)=" + (try params.serialized(covering: components)) == v["signatureInput"]!.stringValue!, "\(id): Signature-Input")
            let signer = MessageSigner(key: key, keyID: params.keyID ?? "")
            let signature = try signer.signature(forBase: base)
            #expect("\(label)=:\(signature.base64EncodedString()):" == v["signature"]!.stringValue!, "\(id): signature bytes")
            // And it verifies through the parser, as a server would read it.
            var headers = request.headers
            headers.append(HeaderField("Signature-Input", v["signatureInput"]!.stringValue!))
            headers.append(HeaderField("Signature", v["signature"]!.stringValue!))
            let found = try SignatureVerifier.select(in: headers, matching: .label(label))
            #expect(found.components == components && found.parameters == params, "\(id): parsed signature")
            let rebuilt = try SignatureBase.request(request, covering: found.components, parameters: found.parameters)
            #expect(key.publicKey.isValidSignature(found.signature, for: Data(rebuilt.utf8)), "\(id): verification")
        }
    }
}
