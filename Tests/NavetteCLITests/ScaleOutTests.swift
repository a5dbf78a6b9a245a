import Foundation
import Logging
import NavettePostgres
import NavetteTesting
import PostgresNIO
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Several `navette serve` processes on one PostgreSQL database behind a
/// load balancer (a TCP proxy that spreads connections over them in turn),
/// laptops as `navette` processes, and restores from backup — on both
/// backends.
@Suite(.serialized)
struct ScaleOutTests {
    static let postgres: PostgresURL? = ProcessEnvironment.value("NAVETTE_POSTGRES_URL").flatMap { try? PostgresURL($0) }
    static let skipNote: Comment =
        "PostgreSQL tests skipped: set NAVETTE_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres to run them (.ci/run starts a server and sets it)"

    /// Runs `sql` on the server of `NAVETTE_POSTGRES_URL` (as its user, on its database).
    static func administer(_ sql: String) async throws {
        let url = postgres!
        let quiet = Logger(label: "scale-out") { _ in SwiftLogNoOpLogHandler() }
        let c = try await PostgresConnection.connect(configuration: url.connectionConfiguration, id: 1, logger: quiet)
        do {
            try await c.query(PostgresQuery(unsafeSQL: sql), logger: quiet)
        } catch {
            try? await c.close()
            throw error
        }
        try await c.close()
    }

    /// The URL of database `name` on the same server.
    static func databaseURL(_ name: String) -> String {
        let u = postgres!
        return "postgres://\(u.user)\(u.password.map { ":\($0)" } ?? "")@\(u.host):\(u.port)/\(name)"
    }

    /// A fresh database for one test, dropped after.
    static func withDatabase<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let name = "navette_t\(UInt32.random(in: 0...UInt32.max))"
        try await administer("CREATE DATABASE \(name)")
        do {
            let result = try await body(name)
            try await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            return result
        } catch {
            try? await administer("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
    }

    static func run(_ args: String...) async throws -> NavetteProcess.Result { try await NavetteProcess.run(args) }

    /// Starts `navette serve` with `storage` arguments, signing for `publicURL`.
    static func serve(_ storage: [String], publicURL: String, log: String) async throws -> (Process, Int) {
        let started = try await offPool {
            Handed(
                try ChildProcess.startServer(
                    NavetteProcess.executable, ["serve"] + storage + ["--port", "0", "--public-url", publicURL], log: log))
        }
        let (process, url) = started.value
        return (process, Int(url.split(separator: ":").last!)!)
    }

    static func stop(_ p: Process) async throws {
        p.terminate()
        _ = try await offPool { Handed(p.waitUntilExit()) }
    }

    /// A process's count of `navette_syncs_total{kind=…}` (metrics are per process).
    static func syncs(port: Int, kind: String) async throws -> Int {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        let text = String(decoding: data, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("navette_syncs_total{kind=\"\(kind)\"}") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
    }

    @Test(
        "a storage option typed wrong is refused in one line that says what to give",
        arguments: [
            (["admin", "nodes"], "give the server's storage"),
            (["admin", "nodes", "--data", "/tmp/x", "--database-url", "postgres://u@h/d"], "one of them"),
            (["admin", "nodes", "--database-url", "http://db.example.org/navette"], "starts with postgres://"),
            (["admin", "nodes", "--database-url", "postgres://db.example.org/navette"], "names no user"),
            (["serve", "--database-url", "postgres://navette:Zsecretpw@127.0.0.1:1/navette"], "check that PostgreSQL runs there"),
        ])
    func aStorageOptionTypedWrongIsRefused(_ args: [String], mentions: String) async throws {
        let r = try await NavetteProcess.run(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
        #expect(!r.stderr.contains("Zsecretpw"), "the error quotes the password")
        #expect(r.stderr.split(separator: "\n").count <= 2, "\(r.stderr)")
    }

    @Test func aLedgerFileTypedWrongIsRefusedAndChangesNothing() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-ledger")
        defer { dir.remove() }
        let data = dir.appending("server")
        let (server, _) = try await Self.serve(["--data", data], publicURL: "http://127.0.0.1:1", log: dir.appending("serve.log"))
        try await Self.stop(server)
        let audit = try await Self.run("admin", "audit", "--data", data).stdout
        let bad = dir.appending("ledger.txt")
        try "# navette erasure ledger\nseeker/ok 1\nnot a ledger line\n".write(toFile: bad, atomically: true, encoding: .utf8)
        for (ledger, mentions) in [(bad, "line 3 is not 'collection/id"), (dir.appending("missing.txt"), "cannot read the ledger")] {
            let r = try await Self.run("admin", "restored", "--data", data, "--ledger", ledger)
            #expect(r.status != 0 && r.stderr.contains(mentions), "\(r.stderr)")
        }
        #expect(try await Self.run("admin", "audit", "--data", data).stdout == audit, "a refused restore changed the registry")
    }

    @Test(.enabled(if: postgres != nil, skipNote))
    func twoServerProcessesOnOneDatabaseServeLaptopsAsOne() async throws {
        try await Self.withDatabase { name in
            let db = Self.databaseURL(name)
            let dir = try TemporaryDirectory(prefix: "navette-scale-out")
            defer { dir.remove() }
            let proxy = try await TCPProxy.start(upstreamPorts: [])
            let publicURL = "http://127.0.0.1:\(proxy.port)"
            // Both start at once on an empty database: the migrations run once.
            async let first = Self.serve(["--database-url", db], publicURL: publicURL, log: dir.appending("a.log"))
            async let second = Self.serve(["--database-url", db], publicURL: publicURL, log: dir.appending("b.log"))
            let (a, b) = try await (first, second)
            defer { a.0.terminate(); b.0.terminate() }
            proxy.balance(over: [a.1, b.1])

            var laptops: [String] = []
            for counsellor in ["c1", "c2"] {
                let code = try await Self.run("admin", "enrol", "--database-url", db, "--agency", "069-lyon-3", "--counsellor", counsellor)
                #expect(code.status == 0, "\(code.stderr)")
                let node = dir.appending(counsellor)
                let created = try await Self.run("node", "init", "--dir", node, "--name", counsellor, "--server", publicURL, "--code", code.lastLine)
                #expect(created.status == 0, "\(created.stderr)")
                laptops.append(node)
            }
            let id = try await Self.run("seeker", "add", "--dir", laptops[0], "--first-name", "Inès", "--last-name", "Moreau", "followers+=c2").lastLine
            for node in laptops { #expect(try await Self.run("sync", "--dir", node).status == 0) }
            // Each sync is a new connection: the balancer sends consecutive ones to the other process.
            for round in 0..<4 {
                #expect(try await Self.run("seeker", "set", "--dir", laptops[0], id, "contact.phone=061100000\(round)").status == 0)
                #expect(try await Self.run("seeker", "set", "--dir", laptops[1], id, "contact.email=r\(round)@example.org").status == 0)
                for node in laptops {
                    let synced = try await Self.run("sync", "--dir", node)
                    #expect(synced.status == 0, "\(synced.stdout)\(synced.stderr)")
                }
            }
            #expect(try await Self.run("sync", "--dir", laptops[0]).status == 0)
            let exports = [try await Self.run("export", "--dir", laptops[0]).stdout, try await Self.run("export", "--dir", laptops[1]).stdout]
            #expect(exports[0] == exports[1] && exports[0].contains("0611000003") && exports[0].contains("r3@example.org"))
            // Both processes took pushes and pulls: a laptop pushed to one and pulled from the other.
            for port in [a.1, b.1] {
                #expect(try await Self.syncs(port: port, kind: "push") > 0, "process on \(port) took no push")
                #expect(try await Self.syncs(port: port, kind: "pull") > 0, "process on \(port) took no pull")
            }
            // One registry: the nodes and a revocation are the same in every process.
            let nodes = try await Self.run("admin", "nodes", "--database-url", db, "--json")
            #expect(nodes.stdout.split(separator: "\n").count == 2, "\(nodes.stdout)")
            let c2Line = try #require(nodes.stdout.split(separator: "\n").first { $0.contains("\"c2\"") })
            let nodeID = try #require(JSONSerialization.jsonObject(with: Data(c2Line.utf8)) as? [String: Any])["id"] as! String
            #expect(try await Self.run("admin", "revoke", "--database-url", db, nodeID).status == 0)
            for _ in 0..<2 {  // whichever process answers
                let refused = try await Self.run("sync", "--dir", laptops[1])
                #expect(refused.status != 0 && refused.stderr.contains("revoked"), "\(refused.stderr)")
            }
            try await proxy.stop()
        }
    }

    /// What both restore tests check once the server runs again on the
    /// restored storage: the laptop that lost an acknowledged change pushes
    /// it again, a new laptop receives it, and the erased seeker stays gone.
    static func checkAfterRestore(dir: TemporaryDirectory, laptops: [String], storage: [String], publicURL: String, lost: String, erased: String?) async throws {
        for node in laptops {
            let synced = try await run("sync", "--dir", node)
            #expect(synced.status == 0, "\(synced.stdout)\(synced.stderr)")
        }
        let code = try await run(["admin", "enrol"] + storage + ["--agency", "069-lyon-3", "--counsellor", "c2"])
        let fresh = dir.appending("fresh")
        let created = try await NavetteProcess.run(["node", "init", "--dir", fresh, "--name", "fresh", "--server", publicURL, "--code", code.lastLine])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try await run("sync", "--dir", fresh).status == 0)
        let shown = try await run("seeker", "show", "--dir", fresh, lost)
        #expect(shown.status == 0, "the change acknowledged after the backup was not pushed again: \(shown.stderr)")
        if let erased {
            #expect(try await run("seeker", "show", "--dir", fresh, erased).status != 0, "a restore brought an erased seeker back")
            let ledger = try await run(["admin", "erasures"] + storage)
            #expect(ledger.stdout.contains(erased))
        }
    }

    static func run(_ args: [String]) async throws -> NavetteProcess.Result { try await NavetteProcess.run(args) }

    @Test func anEmbeddedStoreRestoredFromABackupMakesLaptopsPushAgainWhatItLost() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-restore")
        defer { dir.remove() }
        let data = dir.appending("server")
        let proxy = try await TCPProxy.start(upstreamPorts: [])
        let publicURL = "http://127.0.0.1:\(proxy.port)"
        var (server, port) = try await Self.serve(["--data", data], publicURL: publicURL, log: dir.appending("1.log"))
        proxy.balance(over: [port])
        let code = try await Self.run("admin", "enrol", "--data", data, "--agency", "069-lyon-3", "--counsellor", "c1")
        let laptop = dir.appending("c1")
        #expect(try await Self.run("node", "init", "--dir", laptop, "--name", "c1", "--server", publicURL, "--code", code.lastLine).status == 0)
        _ = try await Self.run("seeker", "add", "--dir", laptop, "--first-name", "Ana", "--last-name", "Before", "followers+=c2")
        #expect(try await Self.run("sync", "--dir", laptop).status == 0)
        // The backup: the record store, taken with the server stopped (the registry is kept, as the admin guide says).
        try await Self.stop(server)
        let backup = dir.appending("backup")
        try FileManager.default.createDirectory(atPath: backup, withIntermediateDirectories: true)
        let files = try FileManager.default.contentsOfDirectory(atPath: data).filter { $0.hasPrefix("navette.sqlite") }
        for f in files { try FileManager.default.copyItem(atPath: data + "/" + f, toPath: backup + "/" + f) }
        (server, port) = try await Self.serve(["--data", data], publicURL: publicURL, log: dir.appending("2.log"))
        proxy.balance(over: [port])
        let lost = try await Self.run("seeker", "add", "--dir", laptop, "--first-name", "Bo", "--last-name", "After", "followers+=c2").lastLine
        let acknowledged = try await Self.run("sync", "--dir", laptop)
        #expect(acknowledged.status == 0 && acknowledged.stdout.contains("sent"), "\(acknowledged.stdout)")
        // The restore: the record store goes back to the backup.
        try await Self.stop(server)
        for f in try FileManager.default.contentsOfDirectory(atPath: data) where f.hasPrefix("navette.sqlite") {
            try FileManager.default.removeItem(atPath: data + "/" + f)
        }
        for f in files { try FileManager.default.copyItem(atPath: backup + "/" + f, toPath: data + "/" + f) }
        (server, port) = try await Self.serve(["--data", data], publicURL: publicURL, log: dir.appending("3.log"))
        defer { server.terminate() }
        proxy.balance(over: [port])
        let audit = try await Self.run("admin", "audit", "--data", data)
        #expect(audit.stdout.contains("incarnation-renewed"), "the server did not notice its store was restored")
        try await Self.checkAfterRestore(dir: dir, laptops: [laptop], storage: ["--data", data], publicURL: publicURL, lost: lost, erased: nil)
        try await proxy.stop()
    }

    @Test(.enabled(if: postgres != nil, skipNote))
    func aDatabaseRestoredFromABackupNeverBringsAnErasedPersonBack() async throws {
        try await Self.withDatabase { name in
            let db = Self.databaseURL(name)
            let storage = ["--database-url", db]
            let dir = try TemporaryDirectory(prefix: "navette-pg-restore")
            defer { dir.remove() }
            let proxy = try await TCPProxy.start(upstreamPorts: [])
            let publicURL = "http://127.0.0.1:\(proxy.port)"
            var (server, port) = try await Self.serve(storage, publicURL: publicURL, log: dir.appending("1.log"))
            proxy.balance(over: [port])
            var laptops: [String] = []
            for counsellor in ["c1", "c2"] {
                let code = try await Self.run(["admin", "enrol"] + storage + ["--agency", "069-lyon-3", "--counsellor", counsellor])
                let node = dir.appending(counsellor)
                #expect(try await Self.run("node", "init", "--dir", node, "--name", counsellor, "--server", publicURL, "--code", code.lastLine).status == 0)
                laptops.append(node)
            }
            let erased = try await Self.run("seeker", "add", "--dir", laptops[0], "--first-name", "Zoé", "--last-name", "Erased", "followers+=c2").lastLine
            for node in laptops { #expect(try await Self.run("sync", "--dir", node).status == 0) }
            // The backup: a copy of the database, taken with the server stopped.
            try await Self.stop(server)
            try await Self.administer("CREATE DATABASE \(name)_backup TEMPLATE \(name)")
            (server, port) = try await Self.serve(storage, publicURL: publicURL, log: dir.appending("2.log"))
            proxy.balance(over: [port])
            let lost = try await Self.run("seeker", "add", "--dir", laptops[0], "--first-name", "Bo", "--last-name", "After", "followers+=c2").lastLine
            #expect(try await Self.run("sync", "--dir", laptops[0]).status == 0)
            let erase = try await Self.run(["admin", "erase"] + storage + [erased])
            #expect(erase.status == 0, "\(erase.stderr)")
            let ledger = try await Self.run(["admin", "ledger"] + storage)
            #expect(ledger.stdout.contains("seeker/\(erased)"))
            try ledger.stdout.write(toFile: dir.appending("ledger.txt"), atomically: true, encoding: .utf8)
            for node in laptops { #expect(try await Self.run("sync", "--dir", node).status == 0) }
            // The restore: the database goes back to the backup, then the admin says so.
            try await Self.stop(server)
            try await Self.administer("DROP DATABASE \(name) WITH (FORCE)")
            try await Self.administer("ALTER DATABASE \(name)_backup RENAME TO \(name)")
            let restored = try await Self.run(["admin", "restored"] + storage + ["--ledger", dir.appending("ledger.txt")])
            #expect(restored.status == 0 && restored.stdout.contains("1 erased record found"), "\(restored.stdout)\(restored.stderr)")
            (server, port) = try await Self.serve(storage, publicURL: publicURL, log: dir.appending("3.log"))
            defer { server.terminate() }
            proxy.balance(over: [port])
            try await Self.checkAfterRestore(dir: dir, laptops: laptops, storage: storage, publicURL: publicURL, lost: lost, erased: erased)
            try await proxy.stop()
        }
    }
}
