/// The RFC 9421 signature base: the exact bytes a signature signs.
///
/// ```text
/// "@method": POST
/// "@authority": sync.example.org
/// "@path": /v1/sync/push
/// "@query": ?
/// "content-type": application/json
/// "content-digest": sha-256=:…:
/// "@signature-params": ("@method" … "content-digest");created=…;keyid="…";alg="ed25519";nonce="…";tag="navette-sync-v1-req"
/// ```
///
/// Bases carry paths and queries: never log them.
public enum SignatureBase {
    /// Builds the base for a request signature.
    ///
    /// - Throws: ``SignatureError`` `missingComponent` when a covered field is
    ///   absent, `duplicateField` when it occurs on several lines.
    public static func request(
        _ request: RequestParts, covering components: [CoveredComponent], parameters: SignatureParameters
    ) throws -> String {
        try make(components, parameters) { c in
            guard !c.fromRequest else {
                throw SignatureError(.malformedSignature, "a request signature cannot cover ;req components")
            }
            return try value(of: c, request: request)
        }
    }

    /// Builds the base for a response signature, whose `;req` components
    /// come from `request`.
    public static func response(
        _ response: ResponseParts, request: RequestParts, covering components: [CoveredComponent],
        parameters: SignatureParameters
    ) throws -> String {
        try make(components, parameters) { c in
            if c.fromRequest { return try value(of: c, request: request) }
            switch c.name {
            case "@status": return String(response.status)
            case let n where n.hasPrefix("@"):
                throw SignatureError(.malformedSignature, "a response has no \(n) of its own")
            default: return try field(c.name, response.values(c.name))
            }
        }
    }

    static func make(
        _ components: [CoveredComponent], _ parameters: SignatureParameters,
        _ value: (CoveredComponent) throws -> String
    ) throws -> String {
        // At most 16 components: comparing pairs costs less than hashing.
        for (n, c) in components.enumerated() where components[..<n].contains(c) {
            throw SignatureError(.malformedSignature, "a component is covered twice")
        }
        var base = ""
        base.reserveCapacity(512)
        for c in components {
            let v = try value(c)
            guard !v.utf8.contains(where: { $0 == 10 || $0 == 13 }) else {
                throw SignatureError(.malformedSignature, "a covered value contains a line break")
            }
            base += c.description
            base += ": "
            base += v
            base += "\n"
        }
        base += "\"@signature-params\": "
        base += try parameters.serialized(covering: components)
        return base
    }

    static func value(of c: CoveredComponent, request: RequestParts) throws -> String {
        switch c.name {
        case "@method": return request.method
        case "@authority": return request.authority
        case "@path": return request.path
        case "@query": return "?" + (request.query ?? "")
        case let n where n.hasPrefix("@"):
            throw SignatureError(.malformedSignature, "the component \(n) is not part of the profile")
        default: return try field(c.name, request.values(c.name))
        }
    }

    /// A covered field's value: present, on one line only (the profile is
    /// stricter than RFC 9421, which would join lines), trimmed.
    static func field(_ name: String, _ values: [String]) throws -> String {
        guard !values.isEmpty else {
            throw SignatureError(.missingComponent, "the covered field '\(name)' is absent")
        }
        guard values.count == 1 else {
            throw SignatureError(.duplicateField, "the covered field '\(name)' occurs on more than one line")
        }
        return values[0].trimmingSpaces
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
