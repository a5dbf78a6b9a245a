/// Why a message's signature or digest was refused. The code is stable (it
/// is the problem type the server answers with); the message names the
/// rule, never key material, signature bases or personal data.
public struct SignatureError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformedSignature = "malformed-signature"
            case missingSignature = "missing-signature"
            case multipleSignatures = "multiple-signatures"
            case missingComponent = "missing-component"
            case duplicateField = "duplicate-field"
            case invalidParameters = "invalid-signature-parameters"
            case unsupportedAlgorithm = "unsupported-algorithm"
            case badSignature = "bad-signature"
            case digestMismatch = "digest-mismatch"
            case missingDigest = "missing-digest"
            case tooLarge = "signature-too-large"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `Signature-Input` or `Signature` is not a valid structured field,
        /// or uses a form the profile forbids.
        public static var malformedSignature: Self { Self(.malformedSignature) }
        /// No signature carries the expected tag.
        public static var missingSignature: Self { Self(.missingSignature) }
        /// More than one signature carries the expected tag.
        public static var multipleSignatures: Self { Self(.multipleSignatures) }
        /// A component the profile requires is not covered, or not present.
        public static var missingComponent: Self { Self(.missingComponent) }
        /// A covered header field occurs on more than one line.
        public static var duplicateField: Self { Self(.duplicateField) }
        /// `created`, `keyid`, `nonce` or `tag` is missing or out of its limits.
        public static var invalidParameters: Self { Self(.invalidParameters) }
        /// `alg` names another algorithm than the key's (Ed25519).
        public static var unsupportedAlgorithm: Self { Self(.unsupportedAlgorithm) }
        /// The signature does not verify.
        public static var badSignature: Self { Self(.badSignature) }
        /// The body does not match its `Content-Digest`.
        public static var digestMismatch: Self { Self(.digestMismatch) }
        /// A body came without a `sha-256` `Content-Digest`.
        public static var missingDigest: Self { Self(.missingDigest) }
        /// The signature fields exceed the profile's limits.
        public static var tooLarge: Self { Self(.tooLarge) }

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
