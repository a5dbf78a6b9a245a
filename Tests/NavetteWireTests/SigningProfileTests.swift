import Crypto
import Foundation
import NavetteWire
import Testing

/// The Navette profile: what a request and a response signature cover, and
/// every tampering the threats of SECURITY.md list.
struct SigningProfileTests {
    let nodeKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32))
    let serverKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: 9, count: 32))
    let body = Array(#"{"batch":"b1","changes":[]}"#.utf8)
    let nonce = "AAAAAAAAAAAAAAAAAAAAAA"

    func signedPush() throws -> RequestParts {
        var r = RequestParts(
            method: "POST", authority: "sync.example.org", path: "/v1/sync/push",
            headers: [HeaderField("Content-Type", "application/json")])
        try MessageSigner(key: nodeKey, keyID: "00000000000000a1").sign(&r, body: body, created: 1_767_600_000, nonce: nonce)
        return r
    }

    func verify(_ r: RequestParts, body: [UInt8]?) throws {
        let s = try SignatureVerifier.select(in: r.headers, tag: SigningProfile.requestTag)
        try SignatureVerifier.checkRequestProfile(s, hasBody: body != nil, encoded: false)
        try SignatureVerifier.verify(s, request: r, body: body, key: nodeKey.publicKey)
    }

    func expectCode(_ code: SignatureError.Code, _ body: () throws -> Void) {
        #expect {
            try body()
        } throws: { ($0 as? SignatureError)?.code == code }
    }

    @Test func aSignedRequestVerifiesAndCoversTheProfile() throws {
        let r = try signedPush()
        try verify(r, body: body)
        let input = r.values("signature-input")[0]
        #expect(input == #"sync=("@method" "@authority" "@path" "@query" "content-type" "content-digest");created=1767600000;keyid="00000000000000a1";alg="ed25519";nonce="AAAAAAAAAAAAAAAAAAAAAA";tag="navette-sync-v1-req""#)
        #expect(r.values("content-digest") == [ContentDigest.fieldValue(for: body)])
    }

    @Test func aBodylessRequestCoversTheQuery() throws {
        var r = RequestParts(method: "GET", authority: "sync.example.org", path: "/v1/sync/pull", query: "cursor=abc&limit=500")
        try MessageSigner(key: nodeKey, keyID: "n").sign(&r, body: nil, created: 1, nonce: nonce)
        try verify(r, body: nil)
        var other = r
        other.query = "cursor=xyz&limit=500"
        expectCode(.badSignature) { try verify(other, body: nil) }
    }

    @Test("retargeting the request breaks the signature (T5)", arguments: ["method", "path", "authority", "query"])
    func retargeting(_ part: String) throws {
        var r = try signedPush()
        switch part {
        case "method": r.method = "PUT"
        case "path": r.path = "/v1/sync/push/../admin"
        case "authority": r.authority = "evil.example.org"
        default: r.query = "agency=B"
        }
        expectCode(.badSignature) { try verify(r, body: body) }
    }

    @Test func aTamperedBodyFailsTheDigest() throws {
        let r = try signedPush()
        var tampered = body
        tampered[3] ^= 1
        expectCode(.digestMismatch) { try verify(r, body: tampered) }
    }

    @Test func digestsOtherThanSHA256AreNotTrusted() throws {
        var r = try signedPush()
        r.headers.removeAll { $0.name == "content-digest" }
        r.headers.append(HeaderField("content-digest", "md5=:AAAAAAAAAAAAAAAAAAAAAA==:"))
        expectCode(.missingDigest) { try ContentDigest.verify(r.values("content-digest"), body: body) }
        expectCode(.missingDigest) { try ContentDigest.verify(["sha-512=:AAAA:"], body: body) }
        expectCode(.duplicateField) { try ContentDigest.verify([ContentDigest.fieldValue(for: body), ContentDigest.fieldValue(for: body)], body: body) }
        try ContentDigest.verify(["sha-512=:AAAA:, " + ContentDigest.fieldValue(for: body)], body: body)
    }

    @Test func signatureFieldsAreParsedStrictly() throws {
        let r = try signedPush()
        let input = r.values("signature-input")[0]
        let sig = r.values("signature")[0]
        func with(_ input: String, _ sig: String) -> [HeaderField] {
            r.headers.filter { $0.name != "signature-input" && $0.name != "signature" }
                + [HeaderField("signature-input", input), HeaderField("signature", sig)]
        }
        // An unterminated quote.
        expectCode(.malformedSignature) { _ = try SignatureVerifier.select(in: with(#"sync=("@method);created=1"#, sig), tag: SigningProfile.requestTag) }
        // A duplicate label.
        expectCode(.malformedSignature) { _ = try SignatureVerifier.select(in: with(input + ", " + input, sig), tag: SigningProfile.requestTag) }
        // A second signature with our tag.
        let second = input.replacingOccurrences(of: "sync=", with: "other=")
        expectCode(.multipleSignatures) { _ = try SignatureVerifier.select(in: with(input + ", " + second, sig + ", other=:AAAA:"), tag: SigningProfile.requestTag) }
        // A foreign tag beside ours is ignored.
        let foreign = #"proxy=("@method");created=1;keyid="p";tag="proxy-v1""#
        let chosen = try SignatureVerifier.select(in: with(foreign + ", " + input, "proxy=:AAAA:, " + sig), tag: SigningProfile.requestTag)
        #expect(chosen.label == "sync")
        // No signature with our tag, or a cavage-style Signature alone.
        expectCode(.missingSignature) { _ = try SignatureVerifier.select(in: with(foreign, "proxy=:AAAA:"), tag: SigningProfile.requestTag) }
        expectCode(.missingSignature) {
            _ = try SignatureVerifier.select(in: [HeaderField("signature", #"keyId="a",algorithm="hs2019",signature="AAAA""#)], tag: SigningProfile.requestTag)
        }
        // Oversized fields and too many components.
        expectCode(.tooLarge) { _ = try SignatureVerifier.select(in: with(input + String(repeating: " ", count: 3_000), sig), tag: SigningProfile.requestTag) }
        let many = "sync=(" + (0..<10_000).map { "\"h\($0)\"" }.joined(separator: " ") + #");tag="navette-sync-v1-req""#
        expectCode(.tooLarge) { _ = try SignatureVerifier.select(in: with(many, sig), tag: SigningProfile.requestTag) }
    }

    @Test("downgrades are refused (T6)", arguments: ["hmac-sha256", "ecdsa-p256-sha256"])
    func algorithmDowngrade(_ alg: String) throws {
        let r = try signedPush()
        var s = try SignatureVerifier.select(in: r.headers, tag: SigningProfile.requestTag)
        s.parameters.algorithm = alg
        expectCode(.unsupportedAlgorithm) { try SignatureVerifier.checkRequestProfile(s, hasBody: true, encoded: false) }
        // An older tag is not ours.
        let old = r.headers.map { h in
            h.name == "signature-input" ? HeaderField(h.name, h.value.replacingOccurrences(of: "v1-req", with: "v0-req")) : h
        }
        expectCode(.missingSignature) { _ = try SignatureVerifier.select(in: old, tag: SigningProfile.requestTag) }
    }

    @Test func theProfileRequiresItsComponentsAndParameters() throws {
        let r = try signedPush()
        var s = try SignatureVerifier.select(in: r.headers, tag: SigningProfile.requestTag)
        var missing = s
        missing.components.removeAll { $0.name == "content-digest" }
        expectCode(.missingComponent) { try SignatureVerifier.checkRequestProfile(missing, hasBody: true, encoded: false) }
        s.parameters.nonce = nil
        expectCode(.invalidParameters) { try SignatureVerifier.checkRequestProfile(s, hasBody: true, encoded: false) }
        s.parameters.nonce = "short"
        expectCode(.invalidParameters) { try SignatureVerifier.checkRequestProfile(s, hasBody: true, encoded: false) }
    }

    @Test func coveredFieldsMustOccurOnce() throws {
        var r = try signedPush()
        r.headers.append(HeaderField("Content-Type", "text/plain"))
        expectCode(.duplicateField) { try verify(r, body: body) }
        // A header literally named "@method" is never read as the method.
        var q = try signedPush()
        q.headers.append(HeaderField("@method", "GET"))
        try verify(q, body: body)
    }

    @Test func aResponseIsBoundToItsRequest() throws {
        let request = try signedPush()
        let responseBody = Array(#"{"accepted":0}"#.utf8)
        var response = ResponseParts(status: 200, headers: [HeaderField("content-type", "application/json")])
        try MessageSigner(key: serverKey, keyID: "server-1").sign(&response, body: responseBody, answering: request, created: 1_767_600_001, nonce: "BBBBBBBBBBBBBBBBBBBBBB")
        func check(_ r: ResponseParts, _ b: [UInt8], _ q: RequestParts, key: Curve25519.Signing.PublicKey) throws {
            let s = try SignatureVerifier.select(in: r.headers, tag: SigningProfile.responseTag)
            try SignatureVerifier.checkResponseProfile(s, encoded: false)
            try SignatureVerifier.verify(s, response: r, body: b, answering: q, key: key)
        }
        try check(response, responseBody, request, key: serverKey.publicKey)
        // Another request (another nonce): the response does not answer it (T8).
        var other = RequestParts(method: "POST", authority: "sync.example.org", path: "/v1/sync/push", headers: [HeaderField("Content-Type", "application/json")])
        try MessageSigner(key: nodeKey, keyID: "00000000000000a1").sign(&other, body: body, created: 1_767_600_000, nonce: "CCCCCCCCCCCCCCCCCCCCCC")
        expectCode(.badSignature) { try check(response, responseBody, other, key: serverKey.publicKey) }
        // A changed status, a changed body, an unknown key, no signature at all.
        var status = response
        status.status = 201
        expectCode(.badSignature) { try check(status, responseBody, request, key: serverKey.publicKey) }
        expectCode(.digestMismatch) { try check(response, Array(#"{"accepted":9}"#.utf8), request, key: serverKey.publicKey) }
        expectCode(.badSignature) { try check(response, responseBody, request, key: nodeKey.publicKey) }
        let unsigned = ResponseParts(status: 200, headers: [HeaderField("content-type", "application/json")])
        expectCode(.missingSignature) { try check(unsigned, responseBody, request, key: serverKey.publicKey) }
    }

    @Test func safeCompareComparesWholeValues() {
        #expect(safeCompare([1, 2, 3], [1, 2, 3]))
        #expect(!safeCompare([1, 2, 3], [1, 2, 4]))
        #expect(!safeCompare([1, 2, 3], [1, 2]))
        #expect(safeCompare([UInt8](), [UInt8]()))
    }
}
