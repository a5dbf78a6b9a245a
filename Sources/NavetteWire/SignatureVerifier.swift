import Crypto
import Foundation
import RawStructuredFieldValues

/// A signature found on a message: its label, what it covers, its
/// parameters and its bytes. Produced by ``SignatureVerifier/select(in:tag:)``.
public struct ReceivedSignature: Hashable, Sendable {
    public var label: String
    public var components: [CoveredComponent]
    public var parameters: SignatureParameters
    public var signature: Data
}

/// Reads and checks signatures, cheap checks first: the fields' size and
/// syntax, the one signature with the expected tag, the profile's
/// components and parameters — then, once the caller has found the key and
/// checked time and nonce, the digest and the Ed25519 signature.
public enum SignatureVerifier {
    /// Finds the one signature carrying `tag` in a message's
    /// `Signature-Input` and `Signature` field lines.
    ///
    /// Signatures with other tags are ignored. Duplicate labels, more than one
    /// signature with `tag`, oversized fields and malformed structured fields
    /// are refused.
    ///
    /// - Throws: ``SignatureError``.
    public static func select(in headers: [HeaderField], tag: String) throws -> ReceivedSignature {
        try select(in: headers, matching: .tag(tag))
    }

    /// How to pick the signature to verify among those of a message.
    public enum Selection: Hashable, Sendable {
        /// The one signature whose `tag` parameter is this (the profile's way).
        case tag(String)
        /// The signature with this label (for vectors of other profiles).
        case label(String)
    }

    /// Finds the one signature `selection` picks. See ``select(in:tag:)``.
    public static func select(in headers: [HeaderField], matching selection: Selection) throws -> ReceivedSignature {
        try select(in: headers, matching: selection, fastPath: true)
    }

    /// See ``select(in:tag:)``; `fastPath: false` always runs the full
    /// RFC 8941 parser (the tests compare both ways).
    static func select(in headers: [HeaderField], matching selection: Selection, fastPath: Bool) throws -> ReceivedSignature {
        let inputLines = headers.filter { $0.name == "signature-input" }.map(\.value)
        let signatureLines = headers.filter { $0.name == "signature" }.map(\.value)
        guard !inputLines.isEmpty else { throw SignatureError(.missingSignature, "the message has no Signature-Input") }
        guard !signatureLines.isEmpty else { throw SignatureError(.missingSignature, "the message has no Signature") }
        let input = inputLines.joined(separator: ", ")
        let signatures = signatureLines.joined(separator: ", ")
        guard input.utf8.count <= SigningProfile.maximumFieldBytes, signatures.utf8.count <= SigningProfile.maximumFieldBytes
        else { throw SignatureError(.tooLarge, "Signature-Input or Signature exceeds \(SigningProfile.maximumFieldBytes) bytes") }
        let (label, items, rawParameters, b64) = try selectMember(
            input: input, signatures: signatures, matching: selection, fastPath: fastPath)
        guard items.count <= SigningProfile.maximumComponents else {
            throw SignatureError(.tooLarge, "a signature covers more than \(SigningProfile.maximumComponents) components")
        }
        var components: [CoveredComponent] = []
        for item in items {
            guard case .string(let name) = item.rfc9651BareItem, !name.isEmpty, name == name.lowercased() else {
                throw SignatureError(.malformedSignature, "a covered component is not a lowercase string")
            }
            var fromRequest = false
            for (p, v) in item.rfc9651Parameters {
                guard p == "req", case .bool(true) = v else {
                    throw SignatureError(.malformedSignature, "the component parameter '\(p)' is not part of the profile")
                }
                fromRequest = true
            }
            components.append(CoveredComponent(name, fromRequest: fromRequest))
        }
        let parameters = try SignatureParameters(rawParameters)
        guard let b64, let bytes = Data(base64Encoded: b64) else {
            throw SignatureError(.malformedSignature, "the Signature member '\(label)' is missing or not a byte sequence")
        }
        return ReceivedSignature(label: label, components: components, parameters: parameters, signature: bytes)
    }

    /// The chosen member's label, covered items, parameters and signature
    /// text (`nil` when the `Signature` member is missing or not a byte
    /// sequence): read by ``ProfileFieldReader`` when both fields are in the
    /// signers' form, by the full parser otherwise.
    static func selectMember(
        input: String, signatures: String, matching selection: Selection, fastPath: Bool
    ) throws -> (String, [Item], OrderedMap<String, RFC9651BareItem>, String?) {
        if fastPath, let m = ProfileFieldReader.read(input: input, signature: signatures) {
            switch selection {
            case .tag(let tag):
                guard case .string(let t)? = m.parameters["tag"], t == tag else {
                    throw SignatureError(.missingSignature, "no signature carries the expected tag")
                }
            case .label(let wanted):
                guard m.label == wanted else {
                    throw SignatureError(.missingSignature, "no signature carries the expected tag")
                }
            }
            return (m.label, m.components, m.parameters, m.signature)
        }
        let inputs = try dictionary(input, "Signature-Input")
        let values = try dictionary(signatures, "Signature")
        var chosen: (String, InnerList)?
        for (label, member) in inputs {
            guard case .innerList(let list) = member else {
                throw SignatureError(.malformedSignature, "a Signature-Input member is not an inner list")
            }
            switch selection {
            case .tag(let tag):
                guard case .string(let t)? = list.rfc9651Parameters["tag"], t == tag else { continue }
                guard chosen == nil else {
                    throw SignatureError(.multipleSignatures, "more than one signature carries the tag \(tag)")
                }
            case .label(let wanted):
                guard label == wanted else { continue }
            }
            chosen = (label, list)
        }
        guard let (label, list) = chosen else {
            throw SignatureError(.missingSignature, "no signature carries the expected tag")
        }
        var b64: String?
        if case .item(let item)? = values[label], case .undecodedByteSequence(let text) = item.rfc9651BareItem {
            b64 = text
        }
        return (label, Array(list.bareInnerList), list.rfc9651Parameters, b64)
    }

    /// Checks that a request signature follows the profile: covers what a
    /// request with this body must cover, and carries `created`, `keyid`, a
    /// nonce of the right length, and no `alg` but Ed25519.
    public static func checkRequestProfile(_ s: ReceivedSignature, hasBody: Bool, encoded: Bool) throws {
        let required = SigningProfile.requestComponents(hasBody: hasBody, encoded: encoded)
        guard required.allSatisfy(s.components.contains) else {
            throw SignatureError(.missingComponent, "the signature does not cover every component the profile requires")
        }
        try checkParameters(s.parameters)
    }

    /// Checks that a response signature follows the profile.
    public static func checkResponseProfile(_ s: ReceivedSignature, encoded: Bool, boundToSignature: Bool = true) throws {
        let required = SigningProfile.responseComponents(encoded: encoded, boundToSignature: boundToSignature)
        guard required.allSatisfy(s.components.contains) else {
            throw SignatureError(.missingComponent, "the response signature does not cover its request and body")
        }
        try checkParameters(s.parameters)
    }

    static func checkParameters(_ p: SignatureParameters) throws {
        guard p.created != nil, let keyID = p.keyID, !keyID.isEmpty, p.tag != nil else {
            throw SignatureError(.invalidParameters, "created, keyid and tag are required")
        }
        guard let nonce = p.nonce, SigningProfile.nonceLength.contains(nonce.count) else {
            throw SignatureError(.invalidParameters, "a nonce of \(SigningProfile.nonceLength) characters is required")
        }
        if let alg = p.algorithm, alg != SigningProfile.algorithm {
            throw SignatureError(.unsupportedAlgorithm, "alg must be \(SigningProfile.algorithm) when present")
        }
        if let expires = p.expires, let created = p.created, expires > created + 300 || expires < created {
            throw SignatureError(.invalidParameters, "expires must lie within 300 s after created")
        }
    }

    /// Verifies a request's digest (when it has a body) and signature.
    ///
    /// - Throws: ``SignatureError`` `digestMismatch`, `badSignature`, ….
    public static func verify(
        _ s: ReceivedSignature, request: RequestParts, body: [UInt8]?, key: Curve25519.Signing.PublicKey
    ) throws {
        if let body { try ContentDigest.verify(request.values("content-digest"), body: body) }
        let base = try SignatureBase.request(request, covering: s.components, parameters: s.parameters)
        guard key.isValidSignature(s.signature, for: Data(base.utf8)) else {
            throw SignatureError(.badSignature, "the signature does not verify")
        }
    }

    /// Verifies a response's digest and signature, and that it answers
    /// `request` (the request's own signature, and so its nonce, is covered).
    public static func verify(
        _ s: ReceivedSignature, response: ResponseParts, body: [UInt8], answering request: RequestParts,
        key: Curve25519.Signing.PublicKey
    ) throws {
        try ContentDigest.verify(response.values("content-digest"), body: body)
        let base = try SignatureBase.response(response, request: request, covering: s.components, parameters: s.parameters)
        guard key.isValidSignature(s.signature, for: Data(base.utf8)) else {
            throw SignatureError(.badSignature, "the response signature does not verify")
        }
    }

    /// Parses a dictionary field, refusing duplicate keys (RFC 8941 would
    /// silently keep the last).
    static func dictionary(_ text: String, _ name: String) throws -> OrderedMap<String, ItemOrInnerList> {
        let parsed: OrderedMap<String, ItemOrInnerList>
        do {
            var parser = StructuredFieldValueParser(Array(text.utf8))
            parsed = try parser.parseDictionaryFieldValue()
        } catch {
            throw SignatureError(.malformedSignature, "\(name) is not a valid structured dictionary")
        }
        guard topLevelMembers(text) == parsed.count else {
            throw SignatureError(.malformedSignature, "\(name) repeats a label")
        }
        return parsed
    }

    /// Counts the members of a dictionary that already parsed: commas
    /// outside strings, plus one.
    static func topLevelMembers(_ text: String) -> Int {
        var count = 1
        var inString = false
        var escaped = false
        for b in text.utf8 {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
            } else if b == UInt8(ascii: "\"") {
                inString = true
            } else if b == UInt8(ascii: ",") {
                count += 1
            }
        }
        return count
    }
}
