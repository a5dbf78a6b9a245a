import Crypto
import Foundation
import RawStructuredFieldValues

/// RFC 9530 `Content-Digest` with SHA-256, over the bytes of the body
/// exactly as they travel (compressed, when the body is compressed).
///
/// ```swift
/// ContentDigest.fieldValue(for: Array("{\"hello\": \"world\"}".utf8))
/// // sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
/// ```
public enum ContentDigest {
    /// The field value for `body`: `sha-256=:<base64>:`.
    public static func fieldValue(for body: some DataProtocol) -> String {
        "sha-256=:" + Data(SHA256.hash(data: body)).base64EncodedString() + ":"
    }

    /// Checks `body` against the `Content-Digest` field lines received.
    ///
    /// Only `sha-256` is trusted: other algorithms are ignored, and a field
    /// without `sha-256` is refused. The comparison is constant-time.
    ///
    /// - Throws: ``SignatureError`` `missingDigest`, `duplicateField`,
    ///   `malformedSignature` or `digestMismatch`.
    public static func verify(_ lines: [String], body: some DataProtocol) throws {
        guard !lines.isEmpty else { throw SignatureError(.missingDigest, "the body has no Content-Digest") }
        guard lines.count == 1 else {
            throw SignatureError(.duplicateField, "Content-Digest occurs on more than one line")
        }
        guard lines[0].utf8.count <= 1024 else { throw SignatureError(.tooLarge, "Content-Digest is too long") }
        let dictionary: OrderedMap<String, ItemOrInnerList>
        do {
            var parser = StructuredFieldValueParser(Array(lines[0].utf8))
            dictionary = try parser.parseDictionaryFieldValue()
        } catch {
            throw SignatureError(.malformedSignature, "Content-Digest is not a structured dictionary")
        }
        guard case .item(let item)? = dictionary["sha-256"] else {
            throw SignatureError(.missingDigest, "Content-Digest has no sha-256 member")
        }
        guard case .undecodedByteSequence(let b64) = item.rfc9651BareItem, let expected = Data(base64Encoded: b64) else {
            throw SignatureError(.malformedSignature, "the sha-256 digest is not a byte sequence")
        }
        let actual = Data(SHA256.hash(data: body))
        guard safeCompare(actual, expected) else {
            throw SignatureError(.digestMismatch, "the body does not match its Content-Digest")
        }
    }
}
