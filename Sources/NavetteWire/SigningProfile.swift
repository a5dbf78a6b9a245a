/// The Navette signing profile: tags, components and limits that every
/// request and response signature follows (`Protocol/` is normative).
public enum SigningProfile {
    /// The label Navette gives its signatures (verifiers select by tag).
    public static let label = "sync"
    /// The tag of request signatures.
    public static let requestTag = "navette-sync-v1-req"
    /// The tag of response signatures.
    public static let responseTag = "navette-sync-v1-res"
    /// The only algorithm keys use.
    public static let algorithm = "ed25519"

    /// The largest `Signature-Input` or `Signature` field accepted, in bytes.
    public static let maximumFieldBytes = 2_048
    /// The most components one signature may cover.
    public static let maximumComponents = 16
    /// The accepted length of a nonce, in characters.
    public static let nonceLength = 16...128

    /// What a request signature covers.
    ///
    /// - Parameters:
    ///   - hasBody: whether the request has a body (then `content-type` and
    ///     `content-digest` are covered too).
    ///   - encoded: whether the body is compressed (then `content-encoding`).
    public static func requestComponents(hasBody: Bool, encoded: Bool = false) -> [CoveredComponent] {
        var c = ["@method", "@authority", "@path", "@query"].map { CoveredComponent($0) }
        if hasBody { c += [CoveredComponent("content-type"), CoveredComponent("content-digest")] }
        if encoded { c.append(CoveredComponent("content-encoding")) }
        return c
    }

    /// What a response signature covers: its status and body, and the
    /// request it answers, down to that request's signature (and so its nonce).
    ///
    /// - Parameter boundToSignature: whether the request was signed; an
    ///   answer to an unsigned request (health, or one refused before its
    ///   signature could be read) covers the request's target only.
    public static func responseComponents(encoded: Bool = false, boundToSignature: Bool = true) -> [CoveredComponent] {
        var c = [CoveredComponent("@status"), CoveredComponent("content-type"), CoveredComponent("content-digest")]
        if encoded { c.append(CoveredComponent("content-encoding")) }
        c += ["@method", "@authority", "@path", "@query"].map { CoveredComponent($0, fromRequest: true) }
        if boundToSignature { c.append(CoveredComponent("signature-input", fromRequest: true)) }
        return c
    }
}
