import Crypto
import Foundation
import NavetteCore
import NavetteWire
import Testing

/// The signature vectors of `Protocol/vectors/signatures.json` — RFC 9421
/// B.2.6 and Navette's own, made by an independent Python reference —
/// reproduced byte for byte (Ed25519 is deterministic), and the answers a
/// node must refuse refused.
struct SignatureVectorTests {
    func requestParts(_ v: JSONValue, signed: Bool) -> RequestParts {
        let r = v["request"]!
        var headers = r["headers"]!.arrayValue!.map { HeaderField($0.arrayValue![0].stringValue!, $0.arrayValue![1].stringValue!) }
        if signed {
            headers.append(HeaderField("signature-input", v["signatureInput"]!.stringValue!))
            headers.append(HeaderField("signature", v["signature"]!.stringValue!))
        }
        return RequestParts(
            method: r["method"]!.stringValue!, authority: r["authority"]!.stringValue!, path: r["path"]!.stringValue!,
            query: r["query"]?.stringValue, headers: headers)
    }

    @Test func everyRequestVectorReproducesByteForByte() throws {
        let requests = try vectors("signatures").filter { $0["request"] != nil }
        #expect(requests.count >= 5)
        for v in requests {
            let id = v["id"]!.stringValue!
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: base64URL(v["privateKey"]!.stringValue!))
            #expect(key.publicKey.rawRepresentation == base64URL(v["publicKey"]!.stringValue!), "\(id): public key")
            let request = requestParts(v, signed: false)
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
            // It verifies through the parser, as a server would read it.
            let signed = requestParts(v, signed: true)
            let found = try SignatureVerifier.select(in: signed.headers, matching: .label(label))
            #expect(found.components == components && found.parameters == params, "\(id): parsed signature")
            if let body = v["request"]!["bodyBase64"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) {
                // Navette's own vectors: the profile's checks and the digest too.
                try SignatureVerifier.checkRequestProfile(
                    found, hasBody: true, encoded: !request.values("content-encoding").isEmpty)
                #expect(throws: Never.self, "\(id): verification") {
                    try SignatureVerifier.verify(found, request: signed, body: Array(body), key: key.publicKey)
                }
            } else {
                let rebuilt = try SignatureBase.request(request, covering: found.components, parameters: found.parameters)
                #expect(key.publicKey.isValidSignature(found.signature, for: Data(rebuilt.utf8)), "\(id): verification")
            }
        }
    }

    @Test func everyAnswerVectorIsAcceptedOrRefusedAsItSays() throws {
        let all = try vectors("signatures")
        let answers = all.filter { $0["response"] != nil }
        #expect(answers.contains { $0["expect"] == "accept" } && answers.contains { $0["expect"] == "reject" })
        for v in answers {
            let id = v["id"]!.stringValue!
            guard let request = all.first(where: { $0["id"] == v["answering"] }) else {
                Issue.record("\(id): no request vector \(v["answering"]!)")
                continue
            }
            let r = v["response"]!
            var response = ResponseParts(
                status: Int(r["status"]!.intValue!),
                headers: r["headers"]!.arrayValue!.map { HeaderField($0.arrayValue![0].stringValue!, $0.arrayValue![1].stringValue!) })
            response.headers.append(HeaderField("signature-input", v["signatureInput"]!.stringValue!))
            response.headers.append(HeaderField("signature", v["signature"]!.stringValue!))
            let body = Array(Data(base64Encoded: r["bodyBase64"]!.stringValue!)!)
            let pinned = try Curve25519.Signing.PublicKey(rawRepresentation: base64URL(v["serverPublicKey"]!.stringValue!))
            let sent = requestParts(request, signed: true)
            let verdict = Result {
                let s = try SignatureVerifier.select(in: response.headers, tag: SigningProfile.responseTag)
                try SignatureVerifier.checkResponseProfile(s, encoded: false)
                guard s.parameters.keyID == v["serverKeyId"]!.stringValue! else { throw SignatureError(.badSignature, "unpinned key id") }
                if v["expect"] == "accept" {
                    let base = try SignatureBase.response(response, request: sent, covering: s.components, parameters: s.parameters)
                    #expect(base == v["signatureBase"]!.stringValue!, "\(id): signature base")
                }
                try SignatureVerifier.verify(s, response: response, body: body, answering: sent, key: pinned)
            }
            switch (v["expect"]!.stringValue!, verdict) {
            case ("accept", .failure(let e)): Issue.record("\(id): a valid answer was refused: \(e)")
            case ("reject", .success): Issue.record("\(id): an answer the node must refuse was accepted (\(v["why"]!))")
            default: break
            }
        }
    }
}
