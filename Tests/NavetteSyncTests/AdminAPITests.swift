import Crypto
import Foundation
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Testing

/// The admin HTTP API: an admin token, never a node key.
@Suite(.serialized)
struct AdminAPITests {
    func call(_ s: TestServer, _ method: String, _ path: String, token: String?, body: JSONValue? = nil) async throws -> TransportResponse {
        var headers: [HeaderField] = []
        if let token { headers.append(HeaderField("authorization", "Bearer \(token)")) }
        if body != nil { headers.append(HeaderField("content-type", "application/json")) }
        return try await HTTPTransport().send(TransportRequest(url: s.url + path, method: method, headers: headers, body: body?.canonicalBytes))
    }

    @Test(arguments: Backend.available) func theAdminAPIWorksWithTheTokenAndRefusesEverythingElse(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let token = try await s.server.rotateAdminToken(actor: "test")
            // Unauthenticated, a wrong token, a node's signature: refused, nothing done.
            #expect(try await call(s, "GET", "/v1/admin/nodes", token: nil).status == 401)
            #expect(try await call(s, "GET", "/v1/admin/nodes", token: "wrong").status == 401)
            let laptop = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { laptop.dir.remove() }
            try await laptop.engine.enrol(server: s.url, code: try s.code())
            var signed = RequestParts(method: "GET", authority: s.authority, path: "/v1/admin/nodes")
            try MessageSigner(key: laptop.key, keyID: laptop.store.identity.node.description)
                .sign(&signed, body: nil, created: Int64(s.clock.millis / 1000), nonce: Base64URL.nonce())
            #expect(try await s.send(signed, body: nil).status == 401, "a node key never authenticates an admin")
            let before = try await s.server.shared.auditLog().count
            #expect(try await call(s, "POST", "/v1/admin/enrol", token: nil, body: ["agency": "069-lyon-3"]).status == 401)
            #expect(try await s.server.shared.auditLog().count == before)

            // With the token.
            let nodes = try await call(s, "GET", "/v1/admin/nodes", token: token)
            #expect(nodes.status == 200)
            #expect(try JSONValue(parsing: nodes.body)["nodes"]?.arrayValue?.count == 1)
            let code = try await call(s, "POST", "/v1/admin/enrol", token: token, body: ["agency": "069-lyon-3", "counsellor": "c7", "validForMinutes": 15])
            let issued = try JSONValue(parsing: code.body)["code"]?.stringValue
            #expect(code.status == 200 && issued?.count == 14)
            let id = laptop.store.identity.node.description
            #expect(try await call(s, "POST", "/v1/admin/view", token: token, body: ["node": .string(id), "agencyWide": true]).status == 200)
            #expect(try await s.server.shared.node(laptop.store.identity.node)?.agencyWide == true)
            #expect(try await call(s, "POST", "/v1/admin/revoke", token: token, body: ["node": .string(id)]).status == 200)
            #expect(try await s.server.shared.node(laptop.store.identity.node)?.status == .revoked)
            let audit = try await call(s, "GET", "/v1/admin/audit", token: token)
            let actions = try JSONValue(parsing: audit.body)["audit"]!.arrayValue!.compactMap { $0["action"]?.stringValue }
            for a in ["admin-token-rotated", "issue-enrolment-code", "view-widen", "revoke"] { #expect(actions.contains(a)) }
            // A rotated token replaces the old one.
            _ = try await s.server.rotateAdminToken(actor: "test")
            #expect(try await call(s, "GET", "/v1/admin/nodes", token: token).status == 401)
        }
    }
}

extension AdminAPITests {
    @Test(arguments: Backend.available) func metricsCountSyncsRefusalsNodesAndPendingErasures(_ backend: Backend) async throws {
        try await withServer(backend: backend) { s in
            let a = try Laptop(1, clock: s.clock, logs: s.logs)
            defer { a.dir.remove() }
            try await a.engine.enrol(server: s.url, code: try s.code())
            let id = try a.store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", "c1"), .set("identity.lastName", "Zqmetric")])
            try a.store.edit("seeker", id, [.set("agency", "075-paris-1")])  // refused
            _ = try await a.engine.sync()
            try await s.server.erase(seeker: id, actor: "test")
            let r = try await call(s, "GET", "/metrics", token: nil)
            #expect(r.status == 200)
            let text = String(decoding: r.body, as: UTF8.self)
            for line in [
                #"navette_syncs_total{kind="push"} 1"#, #"navette_refused_changes_total{reason="agency-change-not-allowed"} 1"#,
                #"navette_nodes{status="active"} 1"#, "navette_erasures_pending 1", "navette_changes_in_total 4",
                // Each metric says what it counts.
                "# HELP navette_syncs_total Pushes and pulls answered, by kind.",
                "# HELP navette_erasures_pending Erased files some laptop still holds.",
            ] {
                #expect(text.contains(line), "missing: \(line)")
            }
            #expect(!text.contains("Zqmetric") && !text.contains(id) && !text.contains(a.store.identity.node.description))
        }
    }
}
