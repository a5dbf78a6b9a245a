import Crypto
import Foundation
import Logging
import NavetteCore
import NavetteStore
import NavetteWire

extension SyncServer {
    /// Makes a new admin API token (the previous one stops working) and
    /// keeps only its SHA-256 digest.
    ///
    /// - Returns: the token, to give to the admin once.
    public func rotateAdminToken(actor: String) async throws -> String {
        let token = Base64URL.nonce(bytes: 32)
        try await shared.setSecret("admin-token-digest", Array(SHA256.hash(data: Array(token.utf8))))
        try await shared.audit(actor: actor, action: "admin-token-rotated", target: "admin API", at: nowMillis)
        return token
    }

    /// Whether a request carries the admin token (`Authorization: Bearer …`),
    /// compared in constant time through its digest. Node signatures never
    /// authenticate an admin.
    func isAdmin(_ parts: RequestParts) async throws -> Bool {
        let values = parts.values("authorization")
        guard values.count == 1, values[0].hasPrefix("Bearer "), let stored = try await shared.existingSecret("admin-token-digest")
        else { return false }
        let token = String(values[0].dropFirst("Bearer ".count))
        return safeCompare(Array(SHA256.hash(data: Array(token.utf8))), stored)
    }

    /// `/v1/admin/…`: the admin operations over HTTP, for an admin token.
    func admin(_ request: IncomingRequest) async throws -> OutgoingResponse {
        let p = request.parts
        guard try await isAdmin(p) else {
            logger.notice("refused admin request", metadata: ["admin.error": "unauthenticated"])
            throw Problem(.unauthorized, "the admin API needs 'Authorization: Bearer <admin token>'")
        }
        func body() throws -> [String: JSONValue] {
            guard let o = (try? JSONValue(parsing: try decodedBody(request), limits: .init(maximumDepth: 4, maximumBytes: 64 << 10)))?.objectValue
            else { throw Problem(.malformedRequest, "the body must be a JSON object") }
            return o
        }
        func string(_ o: [String: JSONValue], _ k: String, required: Bool = true) throws -> String? {
            guard let v = o[k] else {
                if required { throw Problem(.malformedRequest, "the member '\(k)' is required") }
                return nil
            }
            guard let s = v.stringValue, RecordKeys.isValidID(s) else {
                throw Problem(.malformedRequest, "the member '\(k)' must be an id")
            }
            return s
        }
        func node(_ o: [String: JSONValue]) throws -> NodeID {
            guard let n = o["node"]?.stringValue.flatMap(NodeID.init) else {
                throw Problem(.malformedRequest, "the member 'node' must be a node id")
            }
            return n
        }
        let actor = "admin-api"
        let ok = JSONValue.object(["ok": true]).canonicalBytes
        switch (p.method, p.path) {
        case ("GET", "/v1/admin/nodes"):
            let nodes = try await shared.nodes().map { n -> JSONValue in
                var o: [String: JSONValue] = [
                    "id": .string(n.id.description), "name": .string(n.name), "agency": .string(n.agency),
                    "status": .string(n.status.rawValue), "refused": .int(Int64(n.refused)),
                    "view": .string(n.agencyWide ? "agency" : "followed"),
                ]
                if let c = n.counsellor { o["counsellor"] = .string(c) }
                if let l = n.lastSeen { o["lastSync"] = .int(Int64(l)) }
                if let k = n.clockSkew { o["clockOffsetMillis"] = .int(k) }
                return .object(o)
            }
            return respond(200, JSONValue.object(["nodes": .array(nodes)]).canonicalBytes, to: p)
        case ("POST", "/v1/admin/enrol"):
            let o = try body()
            let minutes = o["validForMinutes"]?.intValue ?? 60
            guard (1...10_080).contains(minutes) else { throw Problem(.malformedRequest, "validForMinutes must be 1 to 10080") }
            let code = try await issueEnrolmentCode(
                agency: try string(o, "agency")!, counsellor: try string(o, "counsellor", required: false),
                name: o["name"]?.stringValue, validFor: UInt64(minutes) * 60_000, actor: actor)
            return respond(200, JSONValue.object(["code": .string(code)]).canonicalBytes, to: p)
        case ("POST", "/v1/admin/revoke"):
            guard try await shared.revoke(try node(try body()), actor: actor, now: nowMillis) else { throw Problem(.notFound, "no such node") }
            return respond(200, ok, to: p)
        case ("POST", "/v1/admin/view"):
            let o = try body()
            guard let wide = o["agencyWide"]?.boolValue else { throw Problem(.malformedRequest, "agencyWide must be true or false") }
            guard try await shared.setAgencyWide(try node(o), wide, actor: actor, now: nowMillis) else { throw Problem(.notFound, "no such node") }
            return respond(200, ok, to: p)
        case ("POST", "/v1/admin/transfer"):
            let o = try body()
            do {
                try await transfer(seeker: try string(o, "seeker")!, to: try string(o, "agency")!, referent: try string(o, "referent", required: false), actor: actor)
            } catch let e as AdminError {
                throw Problem(.notFound, e.description)
            }
            return respond(200, ok, to: p)
        case ("POST", "/v1/admin/erase"):
            do {
                let erased = try await erase(seeker: try string(try body(), "seeker")!, actor: actor)
                return respond(200, JSONValue.object(["erased": .int(Int64(erased.count))]).canonicalBytes, to: p)
            } catch let e as AdminError {
                throw Problem(.notFound, e.description)
            }
        case ("GET", "/v1/admin/erasures"):
            let list = try await erasureStatus().map { e -> JSONValue in
                ["seeker": .string(e.seeker), "erased": .bool(e.erased), "pendingOn": .array(e.pendingOn.map { .string($0.description) })]
            }
            return respond(200, JSONValue.object(["erasures": .array(list)]).canonicalBytes, to: p)
        case ("GET", "/v1/admin/audit"):
            let entries = try await shared.auditLog().map { a -> JSONValue in
                ["seq": .int(a.sequence), "at": .int(Int64(a.at)), "actor": .string(a.actor), "action": .string(a.action), "target": .string(a.target)]
            }
            return respond(200, JSONValue.object(["audit": .array(entries)]).canonicalBytes, to: p)
        default:
            throw Problem(.notFound)
        }
    }
}
