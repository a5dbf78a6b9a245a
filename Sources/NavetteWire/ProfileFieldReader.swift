import RawStructuredFieldValues

/// A byte-level reader of the one form in which the profile's signers write
/// `Signature-Input` and `Signature`: a single member each, under the same
/// label, strings without escapes, integers and `;req` only.
///
/// ```text
/// Signature-Input: sync=("@method" "@authority" … "content-digest");created=1767600000;keyid="00000000000000a1";alg="ed25519";nonce="…";tag="navette-sync-v1-req"
/// Signature: sync=:K2qGT5srn2OGbOIDzQ6kYT+ruaycnDAAUpKv+ePFfD0RAxn/1BUeZx/Kdrq32DrfakQ6bPsvB9aqZqognNT6Be4=:
/// ```
///
/// It answers only what RFC 8941's parser would answer the same way, and
/// returns `nil` for anything else — a second member, whitespace the form
/// does not use, an escape, a token, a decimal, a repeated parameter — so
/// that the full parser, which the verifier then runs, decides. It never
/// refuses a field itself: refusing stays the full parser's and the
/// verifier's work, with their messages.
///
/// The server reads these two fields on every request; the general parser
/// was about a quarter of the time spent on the signature fields.
enum ProfileFieldReader {
    /// The one member of a `Signature-Input` field and of its `Signature`
    /// field, as the full parser would give them.
    struct Member {
        var label: String
        var components: [Item]
        var parameters: OrderedMap<String, RFC9651BareItem>
        /// The byte sequence's base64 text, undecoded.
        var signature: String
    }

    /// Reads `input` and `signature` when both are in the signers' form and
    /// carry the same label; `nil` otherwise.
    static func read(input: String, signature: String) -> Member? {
        var input = input
        var signature = signature
        guard var member = input.withUTF8({ readInput($0) }) else { return nil }
        guard let b64 = signature.withUTF8({ readSignature($0, label: member.label) }) else { return nil }
        member.signature = b64
        return member
    }

    /// `label=(components…)params` and nothing else.
    static func readInput(_ b: UnsafeBufferPointer<UInt8>) -> Member? {
        var i = 0
        guard let label = key(b, &i), i < b.count, b[i] == UInt8(ascii: "="),
            i + 1 < b.count, b[i + 1] == UInt8(ascii: "(")
        else { return nil }
        i += 2
        var components: [Item] = []
        while true {
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ")") {
                i += 1
                break
            }
            if !components.isEmpty {
                guard b[i] == UInt8(ascii: " ") else { return nil }
                i += 1
            }
            guard let name = string(b, &i) else { return nil }
            var params = OrderedMap<String, RFC9651BareItem>()
            if i + 4 <= b.count, b[i] == UInt8(ascii: ";"), b[i + 1] == UInt8(ascii: "r"),
                b[i + 2] == UInt8(ascii: "e"), b[i + 3] == UInt8(ascii: "q")
            {
                i += 4
                params["req"] = .bool(true)
            }
            // Only a space or the end of the list may follow: any other
            // parameter, or `;req=…`, is the full parser's to read.
            guard i < b.count, b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: ")") else { return nil }
            components.append(Item(bareItem: .string(name), parameters: params))
        }
        var parameters = OrderedMap<String, RFC9651BareItem>()
        while i < b.count {
            guard b[i] == UInt8(ascii: ";") else { return nil }
            i += 1
            guard let name = key(b, &i), parameters[name] == nil, i < b.count, b[i] == UInt8(ascii: "=") else {
                return nil
            }
            i += 1
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "\"") {
                guard let s = string(b, &i) else { return nil }
                parameters[name] = .string(s)
            } else {
                guard let n = integer(b, &i) else { return nil }
                parameters[name] = .integer(n)
            }
        }
        return Member(label: label, components: components, parameters: parameters, signature: "")
    }

    /// `label=:base64:` and nothing else, under `label`.
    static func readSignature(_ b: UnsafeBufferPointer<UInt8>, label: String) -> String? {
        var i = 0
        guard let l = key(b, &i), l == label, i + 1 < b.count, b[i] == UInt8(ascii: "="), b[i + 1] == UInt8(ascii: ":")
        else { return nil }
        i += 2
        let start = i
        while i < b.count, isBase64(b[i]) { i += 1 }
        guard i == b.count - 1, b[i] == UInt8(ascii: ":") else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
    }

    /// An RFC 8941 key: `( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`.
    static func key(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> String? {
        let start = i
        guard i < b.count, isLower(b[i]) || b[i] == UInt8(ascii: "*") else { return nil }
        i += 1
        while i < b.count, isKeyCharacter(b[i]) { i += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
    }

    /// A string of printable ASCII without escapes; `nil` at a backslash
    /// (the full parser reads escapes) or any byte RFC 8941 refuses.
    static func string(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> String? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            guard c >= 0x20, c < 0x7F, c != UInt8(ascii: "\\") else { return nil }
            i += 1
        }
        return nil
    }

    /// An RFC 8941 integer: an optional minus and 1 to 15 digits, followed
    /// by the next parameter or the end (a decimal point is the full
    /// parser's to read).
    static func integer(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Int64? {
        var negative = false
        if i < b.count, b[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var n: Int64 = 0
        var digits = 0
        while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
            n = n * 10 + Int64(b[i] - UInt8(ascii: "0"))
            digits += 1
            guard digits <= 15 else { return nil }
            i += 1
        }
        guard digits > 0, i == b.count || b[i] == UInt8(ascii: ";") else { return nil }
        return negative ? -n : n
    }

    static func isLower(_ c: UInt8) -> Bool { c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") }

    static func isKeyCharacter(_ c: UInt8) -> Bool {
        isLower(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
            || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "*")
    }

    static func isBase64(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || isLower(c)
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "+") || c == UInt8(ascii: "/")
            || c == UInt8(ascii: "=")
    }
}
