import Crypto
import Foundation
import RawStructuredFieldValues

/// Signs requests (a node) or responses (the server) with an Ed25519 key,
/// following ``SigningProfile``.
///
/// ```swift
/// let signer = MessageSigner(key: nodeKey, keyID: node.description)
/// var request = RequestParts(method: "POST", authority: "sync.example.org", path: "/v1/sync/push",
///                            headers: [HeaderField("content-type", "application/json")])
/// try signer.sign(&request, body: body, created: now, nonce: freshNonce)
/// // request.headers now holds content-digest, signature-input and signature
/// ```
///
/// Sign immediately before each attempt: a retry gets a fresh `created`
/// and nonce.
public struct MessageSigner: Sendable {
    public let keyID: String
    let key: Curve25519.Signing.PrivateKey

    public init(key: Curve25519.Signing.PrivateKey, keyID: String) {
        self.key = key
        self.keyID = keyID
    }

    /// Adds `content-digest` (when there is a body), `signature-input` and
    /// `signature` to a request.
    ///
    /// - Throws: ``SignatureError`` when a covered field is missing or repeated.
    public func sign(
        _ request: inout RequestParts, body: [UInt8]?, created: Int64, nonce: String,
        tag: String = SigningProfile.requestTag
    ) throws {
        request.headers.removeAll { ["content-digest", "signature-input", "signature"].contains($0.name) }
        if let body { request.headers.append(HeaderField("content-digest", ContentDigest.fieldValue(for: body))) }
        let components = SigningProfile.requestComponents(
            hasBody: body != nil, encoded: !request.values("content-encoding").isEmpty)
        let params = parameters(created: created, nonce: nonce, tag: tag)
        let base = try SignatureBase.request(request, covering: components, parameters: params)
        request.headers += try headers(base: base, components: components, params: params)
    }

    /// Adds `content-digest`, `signature-input` and `signature` to a
    /// response, binding it to `request` (and so to the request's nonce,
    /// when the request carries one signature).
    public func sign(
        _ response: inout ResponseParts, body: [UInt8], answering request: RequestParts, created: Int64,
        nonce: String, tag: String = SigningProfile.responseTag
    ) throws {
        response.headers.removeAll { ["content-digest", "signature-input", "signature"].contains($0.name) }
        response.headers.append(HeaderField("content-digest", ContentDigest.fieldValue(for: body)))
        let bound = request.values("signature-input").count == 1
        let components = SigningProfile.responseComponents(
            encoded: !response.values("content-encoding").isEmpty, boundToSignature: bound)
        let params = parameters(created: created, nonce: nonce, tag: tag)
        let base = try SignatureBase.response(response, request: request, covering: components, parameters: params)
        response.headers += try headers(base: base, components: components, params: params)
    }

    /// Signs a signature base as given: for test vectors and other profiles.
    public func signature(forBase base: String) throws -> Data {
        try key.signature(for: Data(base.utf8))
    }

    func parameters(created: Int64, nonce: String, tag: String) -> SignatureParameters {
        SignatureParameters(created: created, keyID: keyID, algorithm: SigningProfile.algorithm, nonce: nonce, tag: tag)
    }

    func headers(base: String, components: [CoveredComponent], params: SignatureParameters) throws -> [HeaderField] {
        let signature = try signature(forBase: base)
        let label = SigningProfile.label
        return [
            HeaderField("signature-input", "\(label)=" + (try params.serialized(covering: components))),
            HeaderField("signature", "\(label)=:\(signature.base64EncodedString()):"),
        ]
    }
}
