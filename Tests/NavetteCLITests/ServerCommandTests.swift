import Foundation
import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// `navette serve`, `navette admin …`, `navette node enrol` and `navette
/// sync` as separate real processes, as an admin and counsellors run them.
struct ServerCommandTests {
    /// Starts `navette serve` with its output in a file; returns the process and its URL.
    static func startServer(data: String, output: String, port: String = "0") async throws -> (Process, String) {
        let started = try await offPool {
            Handed(try ChildProcess.startServer(NavetteProcess.executable, ["serve", "--data", data, "--port", port], log: output))
        }
        return started.value
    }

    @Test func anAdminEnrolsTwoLaptopsThatSyncThenRevokesOne() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-serve")
        defer { dir.remove() }
        let data = dir.appending("server")
        let (server, url) = try await Self.startServer(data: data, output: dir.appending("serve.log"))
        defer { if server.isRunning { server.terminate() } }
        #expect(url.hasPrefix("http://127.0.0.1:"))

        func run(_ args: String...) async throws -> NavetteProcess.Result { try await NavetteProcess.run(args) }
        var nodes: [String] = []
        for (name, counsellor) in [("a", "c1"), ("b", "c2")] {
            let node = dir.appending(name)
            let code = try await run("admin", "enrol", "--data", data, "--agency", "069-lyon-3", "--counsellor", counsellor).lastLine
            #expect(code.count == 14)
            if name == "a" {
                #expect(try await run("node", "init", "--dir", node, "--name", "laptop a", "--agency", "069-lyon-3").status == 0)
                let enrolled = try await run("node", "enrol", "--dir", node, "--server", url, "--code", code)
                #expect(enrolled.status == 0, "\(enrolled.stderr)")
                // The code is one-time.
                let again = try await run("node", "enrol", "--dir", node, "--server", url, "--code", code)
                #expect(again.status != 0 && again.stderr.contains("enrolment-refused"))
            } else {
                // Or create and enrol in one step.
                let created = try await run("node", "init", "--dir", node, "--name", "laptop b", "--server", url, "--code", code)
                #expect(created.status == 0 && created.stdout.contains("enrolled with"), "\(created.stderr)")
            }
            nodes.append(node)
        }
        let insecure = try await run("node", "init", "--dir", dir.appending("c"), "--name", "c", "--server", "http://sync.example.org", "--code", "X")
        #expect(insecure.status != 0 && insecure.stderr.contains("https://"))
        #expect(!FileManager.default.fileExists(atPath: dir.appending("c")), "a refused command creates nothing")
        // c1 creates the file (and is its referent); c2 follows it too.
        let id = try await run("seeker", "add", "--dir", nodes[0], "--first-name", "Inès", "--last-name", "Moreau", "followers+=c2").lastLine
        let pushed = try await run("sync", "--dir", nodes[0])
        #expect(pushed.status == 0 && pushed.stdout.contains("sent 6 changes") && pushed.stdout.contains("bytes up"), "\(pushed.stdout)\(pushed.stderr)")
        let pulled = try await run("sync", "--dir", nodes[1])
        #expect(pulled.status == 0 && pulled.stdout.contains("Synced"), "\(pulled.stdout)")
        #expect(try await run("seeker", "show", "--dir", nodes[1], id).stdout.contains("Moreau"))
        let status = try await run("status", "--dir", nodes[1])
        #expect(status.stdout.contains("server      \(url)") && status.stdout.contains("counsellor  c2"))

        let listed = try await run("admin", "nodes", "--data", data)
        #expect(listed.stdout.split(separator: "\n").count == 3)
        let json = try await run("admin", "nodes", "--data", data, "--json").stdout.split(separator: "\n")
        #expect(json.count == 2)
        let first = try JSONValue(parsing: String(json[0]))
        #expect(first["agency"] == "069-lyon-3" && first["clockOffsetMillis"] != nil && first["refused"] == 0)
        // The agency and counsellor records the codes created reached the laptops.
        let export = try await run("export", "--dir", nodes[1]).stdout
        #expect(export.contains(#""collection":"agency""#) && export.contains(#""collection":"counsellor""#))
        let nodeID = try RecordStore.open(directory: nodes[1]).identity.node.description
        let revoked = try await run("admin", "revoke", "--data", data, nodeID)
        #expect(revoked.status == 0 && revoked.stdout.contains("warning: any work this laptop made after its last sync"))
        let unknown = try await run("admin", "revoke", "--data", data, "00000000000000ff")
        #expect(unknown.status != 0 && unknown.stderr.contains("no node 00000000000000ff is enrolled"))
        let refused = try await run("sync", "--dir", nodes[1])
        #expect(refused.status != 0 && refused.stderr.contains("revoked"))
        #expect(try await run("status", "--dir", nodes[1]).stdout.contains("REVOKED"))
        #expect(try await run("seeker", "list", "--dir", nodes[1]).stdout.contains("(none)"))
        let audit = try await run("admin", "audit", "--data", data).stdout
        for action in ["issue-enrolment-code", "enrol", "revoke"] { #expect(audit.contains(action)) }

        // SIGTERM stops the server cleanly.
        server.terminate()
        await server.exited()
        #expect(server.terminationStatus == 0)
    }

    @Test func theNodeKeyIsOwnerOnlyAndNeverExported() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-key")
        defer { dir.remove() }
        let node = dir.appending("node")
        #expect(try await NavetteProcess.run(["node", "init", "--dir", node, "--name", "k", "--agency", "069-lyon-3"]).status == 0)
        let keyPath = (node as NSString).appendingPathComponent("node.key")
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let key = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.count == 43)
        let export = try await NavetteProcess.run(["export", "--dir", node]).stdout
        let status = try await NavetteProcess.run(["status", "--dir", node]).stdout
        #expect(!export.contains(key) && !status.contains(key))
    }

    @Test func anAdminWidensTransfersAndErasesFromTheCommandLine() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-admin")
        defer { dir.remove() }
        let data = dir.appending("server")
        let (server, url) = try await Self.startServer(data: data, output: dir.appending("serve.log"))
        defer { if server.isRunning { server.terminate() } }
        func run(_ args: String...) async throws -> NavetteProcess.Result { try await NavetteProcess.run(args) }
        let a = dir.appending("a"), desk = dir.appending("desk")
        for (node, counsellor) in [(a, "c1"), (desk, "reception")] {
            let code = try await run("admin", "enrol", "--data", data, "--agency", "069-lyon-3", "--counsellor", counsellor).lastLine
            #expect(try await run("node", "init", "--dir", node, "--name", counsellor, "--server", url, "--code", code).status == 0)
        }
        let id = try await run("seeker", "add", "--dir", a, "--first-name", "Zq", "--last-name", "Admin").lastLine
        #expect(try await run("sync", "--dir", a).status == 0)
        #expect(try await run("sync", "--dir", desk).status == 0)
        #expect(try await run("seeker", "list", "--dir", desk).stdout.contains("(none)"))
        let deskID = try RecordStore.open(directory: desk).identity.node.description
        #expect(try await run("admin", "view", "--data", data, deskID, "--agency-wide").status == 0)
        #expect(try await run("sync", "--dir", desk).status == 0)
        #expect(try await run("seeker", "list", "--dir", desk).stdout.contains(id))

        // Erasure: the laptop only requests it; the admin carries it out.
        let refused = try await run("seeker", "erase", "--dir", a, id)
        #expect(refused.status != 0 && refused.stderr.contains("request-erasure"))
        #expect(try await run("seeker", "request-erasure", "--dir", a, id).status == 0)
        #expect(try await run("sync", "--dir", a).status == 0)
        #expect(try await run("admin", "erasures", "--data", data).stdout.contains("requested"))
        let erased = try await run("admin", "erase", "--data", data, id)
        #expect(erased.status == 0 && erased.stdout.contains("2 laptops still hold it"), "\(erased.stdout)\(erased.stderr)")
        for node in [a, desk] { #expect(try await run("sync", "--dir", node).status == 0) }
        #expect(try await run("admin", "erasures", "--data", data).stdout.contains("none"))
        #expect(try await run("seeker", "list", "--dir", desk).stdout.contains("(none)"))

        let transfer = try await run("admin", "transfer", "--data", data, "no-such-seeker", "--to-agency", "075-paris-1")
        #expect(transfer.status != 0 && transfer.stderr.contains("no seeker has the id"))
        let audit = try await run("admin", "audit", "--data", data).stdout
        for action in ["view-widen", "erase"] { #expect(audit.contains(action)) }
    }
}
