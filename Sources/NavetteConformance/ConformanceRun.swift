import Crypto
import Foundation
import NavetteClient
import NavetteCore
import NavetteWire

/// Drives a Navette server through the requirements of `Protocol/spec/`,
/// as a well-behaved and as a hostile client, and reports a verdict per
/// requirement id.
///
/// It plays four nodes of a first agency (two laptops of one counsellor, one
/// to revoke, one for enrolment checks) and one of a second agency, and
/// checks every answer it gets on the way: signature, digest, canonical
/// JSON, schema, problem format.
///
/// ```swift
/// let run = ConformanceRun(server: "http://127.0.0.1:8080", admin: admin, schemas: schemas)
/// let report = await run.run()
/// print(report.text)   // one line per requirement id
/// ```
public actor ConformanceRun {
    /// Every requirement id the tool exercises, with what it checks.
    public static let requirements: [String: String] = [
        "RES-001": "GET /v1/health answers 200 with status ok and the incarnation",
        "RES-002": "GET /v1/server-keys lists the key that signs answers",
        "RES-003": "every answer is signed (checked on every answer of the run)",
        "RES-004": "every answer with a body carries Content-Type and Content-Digest",
        "ENC-001": "invalid JSON, trailing content and repeated members are malformed-request",
        "ENC-002": "nesting deeper than 32 levels is malformed-request",
        "ENC-003": "an unknown member of a message is malformed-request",
        "ENC-004": "every JSON body the server sends is canonical",
        "ENC-005": "a change whose id or time is malformed is refused",
        "ENC-006": "gzip bodies are accepted; other or corrupt codings are unsupported-media-type",
        "ENC-007": "the digest of a gzip body covers the compressed bytes",
        "ENC-008": "bodies over 4 MiB and header fields over 16 KiB are refused",
        "ENC-009": "every body the server sends is valid against its JSON Schema",
        "CHG-001": "changes lacking a required member, or with a wrong type, are malformed-request",
        "SCH-002": "a new record whose agency the server cannot tell is outside-agency",
        "SYNC-001": "a push applies and accounts for every change",
        "SYNC-002": "a batch sent again gets the same answer and applies nothing twice",
        "SYNC-003": "a push of more than 1,000 changes is malformed-request",
        "SYNC-004": "another node's change is refused as not-own-change",
        "SYNC-005": "a change to agency or counsellor records is collection-not-writable",
        "SYNC-006": "a change to another agency's record is outside-agency",
        "SYNC-007": "moving a record to another agency is agency-change-not-allowed",
        "SYNC-008": "a change stamped 10 minutes ahead is change-from-future",
        "SYNC-009": "unknown, out-of-range or conflicting query parameters are malformed-request",
        "SYNC-010": "a pull returns others' changes once, never the node's own, within the limit",
        "SYNC-011": "a cursor of another node, or altered, is refused",
        "SYNC-013": "a cursor older than the compacted history is cursor-expired (compacted)",
        "SYNC-014": "nothing of a record outside the view reaches a node",
        "SYNC-015": "a record entering the view comes as a snapshot; leaving it, as a drop",
        "SYNC-016": "a bootstrap lists the view and sends every record of it as a snapshot",
        "SYNC-017": "an erased record is dropped, and later changes to it are accepted and not relayed",
        "ENROL-001": "a valid code enrols the node with its agency, counsellor and the server keys",
        "ENROL-002": "a used or unknown code is enrolment-refused",
        "ENROL-003": "an enrolment not signed by the registered key, or with another keyid, is unauthorized",
        "ENROL-005": "a revoked node's push and pull are node-revoked",
        "SIG-001": "an unsigned request, or one without the request tag, is unauthorized",
        "SIG-002": "a signature not covering content-digest is unauthorized",
        "SIG-003": "a signature without nonce, with a short nonce, or another alg is unauthorized",
        "SIG-004": "a covered field on two lines is malformed-request",
        "SIG-005": "a request signed for another authority is unauthorized",
        "SIG-006": "created 400 s behind or 120 s ahead is clock-skew with serverTime",
        "SIG-007": "the same nonce twice is replay",
        "SIG-008": "a challenge nonce is accepted once whatever created, then replay",
        "SIG-009": "a digest that does not match, or no sha-256 member, is digest-mismatch",
        "SIG-010": "an unknown key and a bad signature get the same problem body",
        "SIG-011": "oversized signature fields are headers-too-large; malformed or repeated labels, malformed-signature",
        "SIG-012": "every answer is signed with a server key and bound to the request's signature",
        "ERR-001": "every error is application/problem+json with a known type and matching status",
        "ERR-002": "an unknown path is not-found; a wrong method, method-not-allowed",
        "ERR-003": "no problem detail repeats a value of the request body",
        "VER-001": "schemaVersion 2 in a push or an enrolment is upgrade-required",
        "VER-002": "a change with an unknown operation and member is accepted and relayed byte for byte",
    ]

    let base: String
    let authority: String
    let admin: any ConformanceAdmin
    let schemas: ProtocolSchemas?
    let log: @Sendable (String) -> Void
    let transport = HTTPTransport(timeout: .seconds(30))

    var serverKeys: [String: Curve25519.Signing.PublicKey] = [:]
    var offsetMillis: Int64 = 0
    var probes: [String: Probe] = [:]
    var verdicts: [String: [Verdict]] = [:]
    /// Requirements checked on every answer: answers seen, and violations.
    var watched: [String: (seen: Int, violations: [String])] = [:]
    /// Values the tool writes into records: no problem detail may repeat them.
    let canaries = ["Zqxjconformance", "Wvykcanary"]
    let records = RunRecords()
    /// The first push (batch id, changes, answer), to send again.
    var firstBatch: (String, [JSONValue], [UInt8])?
    /// A cursor of A2 from before later changes: old history after compaction.
    var earlyCursor: String?

    /// - Parameters:
    ///   - server: the base URL (`http://127.0.0.1:8080`).
    ///   - admin: where enrolment codes (and admin actions) come from.
    ///   - schemas: `Protocol/schemas/`, to validate every body; `nil` skips
    ///     ENC-009.
    ///   - log: receives a line per step, for people.
    public init(
        server: String, admin: any ConformanceAdmin, schemas: ProtocolSchemas?, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        var url = server
        while url.hasSuffix("/") { url.removeLast() }
        base = url
        let parsed = URLComponents(string: url)
        var authority = parsed?.host ?? "localhost"
        if let port = parsed?.port, !(parsed?.scheme == "http" && port == 80) && !(parsed?.scheme == "https" && port == 443) {
            authority += ":\(port)"
        }
        self.authority = authority.lowercased()
        self.admin = admin
        self.schemas = schemas
        self.log = log
    }

    // MARK: - Running

    /// Runs every check once and reports.
    public func run() async -> ConformanceReport {
        await discovery()
        await enrolment()
        await pushing()
        await pulling()
        await views()
        await encodings()
        await signatures()
        await errors()
        await administration()
        return report()
    }

    func report() -> ConformanceReport {
        for (id, w) in watched {
            if let v = w.violations.first {
                record(id, .failed(v + (w.violations.count > 1 ? " (and \(w.violations.count - 1) more)" : "")))
            } else if w.seen > 0 {
                record(id, .passed)
            }
        }
        if schemas == nil { record("ENC-009", .notRun("no schema directory was given")) }
        let ids = Set(Self.requirements.keys).union(verdicts.keys)
        return ConformanceReport(
            verdicts: ids.sorted(by: Self.idLess).map { id in
                let all = verdicts[id] ?? []
                if let failure = all.first(where: \.isFailure) { return (id, failure) }
                if all.contains(.passed) { return (id, .passed) }
                if let skipped = all.first { return (id, skipped) }
                return (id, .failed("the run never reached this requirement"))
            })
    }

    static func idLess(_ a: String, _ b: String) -> Bool {
        let (ta, na) = (a.prefix { $0 != "-" }, Int(a.split(separator: "-").last ?? "") ?? 0)
        let (tb, nb) = (b.prefix { $0 != "-" }, Int(b.split(separator: "-").last ?? "") ?? 0)
        return ta != tb ? ta < tb : na < nb
    }

    func record(_ id: String, _ verdict: Verdict) {
        verdicts[id, default: []].append(verdict)
    }

    /// Runs one check of requirement `id`; a throw fails it with its message.
    func check(_ id: String, _ what: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            record(id, .passed)
            log("pass  \(id)  \(what)")
        } catch {
            record(id, .failed("\(what): \(error)"))
            log("FAIL  \(id)  \(what): \(error)")
        }
    }

    func watch(_ id: String, _ violation: String?) {
        var w = watched[id] ?? (0, [])
        w.seen += 1
        if let violation { w.violations.append(violation) }
        watched[id] = w
    }

    func probe(_ name: String) throws -> Probe {
        guard let p = probes[name], !p.agency.isEmpty else { throw CheckFailure("node \(name) could not be enrolled") }
        return p
    }

    var serverMillis: Int64 { Int64(Date().timeIntervalSince1970 * 1000) + offsetMillis }

    // MARK: - Exchanges

    /// Builds a request; signs it as `probe` when given.
    func request(
        _ method: String, _ path: String, query: String? = nil, body: [UInt8]? = nil, as probe: Probe? = nil,
        gzip: Bool = false, created: Int64? = nil, nonce: String? = nil, authority: String? = nil,
        extraHeaders: [HeaderField] = []
    ) throws -> (RequestParts, [UInt8]?) {
        var parts = RequestParts(method: method, authority: authority ?? self.authority, path: path, query: query)
        var wire = body
        if let body {
            parts.headers.append(HeaderField("content-type", "application/json"))
            if gzip {
                wire = BodyEncoding.gzipped(body) ?? body
                parts.headers.append(HeaderField("content-encoding", "gzip"))
            }
        }
        parts.headers += extraHeaders
        if let probe {
            try probe.signer.sign(
                &parts, body: wire, created: created ?? serverMillis / 1000, nonce: nonce ?? Base64URL.nonce())
        }
        return (parts, wire)
    }

    /// Sends a request and checks its answer against what every answer must
    /// be; `bound` says whether the request carried one readable signature.
    func send(_ parts: RequestParts, body: [UInt8]?, bound: Bool? = nil) async throws -> Reply {
        let url = base + parts.path + (parts.query.map { "?" + $0 } ?? "")
        // The authority signed travels as the Host the transport sets from the URL.
        let headers = parts.headers
        let answer = try await transport.send(TransportRequest(url: url, method: parts.method, headers: headers, body: body))
        let response = ResponseParts(status: answer.status, headers: answer.headers)
        let plain = (try? BodyEncoding.decode(answer.body, encodings: response.values("content-encoding"), maximumBytes: 64 << 20))
            ?? answer.body
        let json = try? JSONValue(parsing: plain)
        let reply = Reply(status: answer.status, headers: answer.headers, raw: answer.body, body: plain, json: json)
        inspect(reply, response: response, request: parts, bound: bound ?? (parts.values("signature-input").count == 1))
        return reply
    }

    /// The checks every answer gets.
    func inspect(_ reply: Reply, response: ResponseParts, request: RequestParts, bound: Bool) {
        let where_ = "\(request.method) \(request.path) → \(reply.summary)"
        // RES-003, SIG-012: signed by a server key, bound to the request.
        var signatureProblem: String?
        do {
            let s = try SignatureVerifier.select(in: response.headers, tag: SigningProfile.responseTag)
            try SignatureVerifier.checkResponseProfile(
                s, encoded: !response.values("content-encoding").isEmpty, boundToSignature: bound)
            if !serverKeys.isEmpty {
                guard let keyID = s.parameters.keyID, let key = serverKeys[keyID] else {
                    throw CheckFailure("signed by a key the server did not publish")
                }
                try SignatureVerifier.verify(s, response: response, body: reply.raw, answering: request, key: key)
            }
        } catch {
            signatureProblem = "\(where_): \(error)"
        }
        watch("RES-003", signatureProblem)
        watch("SIG-012", signatureProblem)
        // RES-004
        if !reply.raw.isEmpty {
            let ok = response.values("content-type").count == 1 && response.values("content-digest").count == 1
            watch("RES-004", ok ? nil : "\(where_): Content-Type or Content-Digest is missing")
        }
        let contentType = response.values("content-type").first ?? ""
        guard contentType.hasPrefix("application/json") || contentType.hasPrefix("application/problem+json") else { return }
        // ENC-004
        if let json = reply.json {
            watch("ENC-004", json.canonicalBytes == reply.body ? nil : "\(where_): the body is not canonical JSON")
        } else {
            watch("ENC-004", "\(where_): the body is not JSON")
        }
        // ERR-001, ERR-003
        if reply.status >= 400 {
            var violation: String?
            if !contentType.hasPrefix("application/problem+json") {
                violation = "\(where_): Content-Type is \(contentType)"
            } else if let code = reply.problem, let type = ProblemType.code(code) {
                if reply.json?["status"]?.intValue != Int64(reply.status) || type.status != reply.status {
                    violation = "\(where_): the status of \(code) must be \(type.status), in the body and the answer"
                } else if reply.json?["title"]?.stringValue == nil {
                    violation = "\(where_): the problem has no title"
                }
            } else {
                violation = "\(where_): the problem type is not one of the spec's"
            }
            watch("ERR-001", violation)
            let detail = reply.json?["detail"]?.stringValue ?? ""
            watch("ERR-003", canaries.contains { detail.contains($0) } ? "\(where_): the detail repeats a value of the request" : nil)
        }
        // ENC-009
        if let schemas, let json = reply.json {
            let name = reply.status >= 400 ? "problem" : Self.schema(for: request.path)
            if let name {
                let errors = schemas.validate(json, against: name)
                watch("ENC-009", errors.isEmpty ? nil : "\(where_): not a valid \(name): \(errors.prefix(2).joined(separator: "; "))")
            }
        }
    }

    static func schema(for path: String) -> String? {
        switch path {
        case "/v1/health": "health"
        case "/v1/server-keys": "server-keys"
        case "/v1/auth/challenge": "challenge"
        case "/v1/enrol": "enrol-response"
        case "/v1/sync/push": "push-response"
        case "/v1/sync/pull": "pull-response"
        default: nil
        }
    }

    /// Pushes `changes` as `probe`, in a batch of the given id.
    func push(_ name: String, _ changes: [JSONValue], batch: String = Base64URL.nonce(), schemaVersion: Int64 = 1)
        async throws -> Reply
    {
        let body = JSONValue.object([
            "batch": .string(batch), "changes": .array(changes), "schemaVersion": .int(schemaVersion),
        ]).canonicalBytes
        let (parts, wire) = try request("POST", "/v1/sync/push", body: body, as: try probe(name))
        return try await send(parts, body: wire)
    }

    /// A push answer's refusal reasons by change id.
    func refusals(_ reply: Reply) throws -> [String: String] {
        try expect(reply.status == 200, "the push was answered \(reply.summary)")
        var out: [String: String] = [:]
        for r in reply.json?["refused"]?.arrayValue ?? [] {
            if let id = r["id"]?.stringValue, let reason = r["reason"]?.stringValue { out[id] = reason }
        }
        return out
    }

    /// One pull page as `name`, from its cursor (or a bootstrap); stores the
    /// page's cursor.
    func pull(_ name: String, bootstrap: Bool = false, limit: Int? = nil, cursor: String? = nil) async throws -> Reply {
        var p = try probe(name)
        var query: [String] = []
        if bootstrap {
            query.append("bootstrap=1")
        } else if let c = cursor ?? p.cursor {
            query.append("cursor=\(c)")
        }
        if let limit { query.append("limit=\(limit)") }
        let (parts, _) = try request(
            "GET", "/v1/sync/pull", query: query.isEmpty ? nil : query.joined(separator: "&"), as: p,
            extraHeaders: [HeaderField("accept-encoding", "gzip")])
        let reply = try await send(parts, body: nil)
        try expect(reply.status == 200, "a pull as \(name) was answered \(reply.summary)")
        if cursor == nil {
            p.cursor = reply.json?["cursor"]?.stringValue
            probes[name] = p
        }
        return reply
    }

    /// Pulls until `more` is false; returns every page.
    func pullAll(_ name: String, bootstrap: Bool = false) async throws -> [JSONValue] {
        var pages: [JSONValue] = []
        var first = bootstrap
        for _ in 0..<100 {
            let reply = try await pull(name, bootstrap: first)
            first = false
            guard let json = reply.json else { throw CheckFailure("a pull answer is not JSON") }
            pages.append(json)
            if json["more"]?.boolValue != true { return pages }
        }
        throw CheckFailure("100 pull pages and still more")
    }

    /// Every change, snapshot, drop and view entry of pages, by record id.
    static func mentions(_ pages: [JSONValue], of record: String) -> (changes: [JSONValue], snapshots: Int, drops: Int, view: Int) {
        var changes: [JSONValue] = []
        var snapshots = 0, drops = 0, view = 0
        for page in pages {
            changes += (page["changes"]?.arrayValue ?? []).filter { $0["record"]?.stringValue == record }
            snapshots += (page["snapshots"]?.arrayValue ?? []).filter { $0["record"]?.stringValue == record }.count
            drops += (page["drops"]?.arrayValue ?? []).filter { $0["record"]?.stringValue == record }.count
            view += (page["view"]?.arrayValue ?? []).filter { $0["record"]?.stringValue == record }.count
        }
        return (changes, snapshots, drops, view)
    }
}
