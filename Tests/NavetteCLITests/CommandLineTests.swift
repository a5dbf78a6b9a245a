import Foundation
import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// The `navette` command as a counsellor uses it: real processes, real
/// store files.
struct CommandLineTests {
    let dir: TemporaryDirectory
    let node: String

    init() async throws {
        dir = try TemporaryDirectory(prefix: "navette-cli")
        node = dir.appending("node")
        let r = try await NavetteProcess.run(["node", "init", "--dir", node, "--name", "Test laptop", "--agency", "069-lyon-3", "--counsellor", "c1"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    func navette(_ args: String...) async throws -> NavetteProcess.Result {
        try await NavetteProcess.run(args.flatMap { $0 == "@dir" ? ["--dir", node] : [$0] })
    }

    func addSeeker(_ extra: String...) async throws -> String {
        let r = try await NavetteProcess.run(["seeker", "add", "--dir", node, "--first-name", "Inès", "--last-name", "Moreau"] + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return r.lastLine
    }

    /// Expects a refusal: non-zero exit, one line on standard error, and no
    /// change to the store.
    func expectRefusal(_ args: [String], mentions: String, notMentioning secret: String? = nil) async throws {
        let before = try await navette("export", "@dir").stdout
        let r = try await NavetteProcess.run(args.flatMap { $0 == "@dir" ? ["--dir", node] : [$0] })
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(r.stderr)")
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
        if let secret { #expect(!r.stderr.contains(secret), "the error quotes a personal value: \(r.stderr)") }
        #expect(try await navette("export", "@dir").stdout == before, "a refused command changed the store")
    }

    @Test func everyCommandHasHelp() async throws {
        for command in [
            [], ["demo"], ["node", "init"], ["seeker"], ["seeker", "add"], ["seeker", "set"], ["seeker", "show"],
            ["seeker", "list"], ["seeker", "match"], ["seeker", "erase"], ["workshop"], ["workshop", "session", "add"],
            ["workshop", "register"], ["workshop", "session", "roster"], ["conflicts"], ["conflicts", "resolve"],
            ["status"], ["log"], ["export"], ["schema"], ["sync"], ["node", "enrol"], ["serve"], ["admin", "enrol"],
            ["admin", "revoke"], ["admin", "nodes"], ["admin", "audit"], ["admin", "restored"], ["admin", "ledger"], ["import"],
        ] {
            let r = try await NavetteProcess.run(command + ["--help"])
            #expect(r.status == 0, "\(command) --help failed")
            #expect(r.stdout.contains("USAGE: navette"), "\(command) --help has no usage")
        }
        #expect(!(try await NavetteProcess.run(["--help"]).stdout.contains("_write-loop")))
    }

    @Test func aCounsellorCreatesEditsFindsAndShowsAFile() async throws {
        let id = try await addSeeker("contact.phone=06 11 22 33 44", "situation.flags+=rsa")
        #expect(UUID(uuidString: id) != nil)
        let set = try await navette("seeker", "set", "@dir", id, "skills[ROME:347:100381].level=3", "skills[ROME:347:100381].source=SELF", "contact.email=ines@example.org", "unansweredContactAttempts+=2")
        #expect(set.status == 0, "\(set.stderr)")
        let show = try await navette("seeker", "show", "@dir", id)
        for text in ["Inès", "06 11 22 33 44", "rsa", "ROME:347:100381", "\"level\":3", "ines@example.org", "referent", "c1"] {
            #expect(show.stdout.contains(text), "show lacks \(text):\n\(show.stdout)")
        }
        let json = try JSONValue(parsing: try await navette("seeker", "show", "@dir", id, "--json").stdout.trimmingCharacters(in: .newlines))
        #expect(json["fields"]?["unansweredContactAttempts"]?["value"] == 2)
        let list = try await navette("seeker", "list", "@dir", "--name", "ines")
        #expect(list.stdout.contains(id))
        #expect(try await navette("seeker", "list", "@dir", "--status", "archived").stdout.contains("(none)"))
        let status = try await navette("status", "@dir")
        #expect(status.stdout.contains("seeker 1"))
        #expect(status.stdout.contains("6 made here not yet synced") || status.stdout.contains("not yet synced"))
    }

    @Test func theLogShowsWhoChangedWhatNeverTheValues() async throws {
        let id = try await addSeeker("contact.phone=0699887766", "sensitive.barriers+=housing")
        let log = try await navette("log", "@dir")
        #expect(log.status == 0)
        #expect(log.stdout.contains("contact.phone"))
        #expect(log.stdout.contains("seeker/\(id)"))
        for personal in ["0699887766", "Moreau", "Inès", "housing"] {
            #expect(!log.stdout.contains(personal), "the log shows \(personal)")
        }
    }

    @Test func badInputGetsOneClearLineAndChangesNothing() async throws {
        let id = try await addSeeker()
        try await expectRefusal(["seeker", "set", "@dir", id, "contact.fax=0100"], mentions: "no field 'contact.fax'")
        try await expectRefusal(["seeker", "set", "@dir", id, "contact.email=\(String(repeating: "a", count: 300))secret"],
                          mentions: "contact.email", notMentioning: "secret")
        try await expectRefusal(["seeker", "set", "@dir", id, "identity.birthDate=31/12/1990"], mentions: "not a valid date")
        try await expectRefusal(["seeker", "set", "@dir", id, "situation.flags=rsa"], mentions: "is a set")
        try await expectRefusal(["seeker", "set", "@dir", id, "contact.phone"], mentions: "FIELD=VALUE")
        try await expectRefusal(["seeker", "set", "@dir", "no-such-id", "contact.phone=1"], mentions: "no seeker has the id")
        // One bad assignment refuses the whole command.
        try await expectRefusal(["seeker", "set", "@dir", id, "contact.phone=0100", "situation.status=lost"], mentions: "situation.status")
        try await expectRefusal(["seeker", "match", "@dir", "XYZ"], mentions: "not a ROME code")
        try await expectRefusal(["seeker", "match", "@dir", "Z9999"], mentions: "not in the embedded ROME subset")
        try await expectRefusal(["node", "init", "@dir", "--name", "again", "--agency", "069-lyon-3"], mentions: "already holds a node")
        let nowhere = try await NavetteProcess.run(["status", "--dir", dir.appending("nowhere")])
        #expect(nowhere.status != 0 && nowhere.stderr.contains("navette node init"))
        let typo = try await NavetteProcess.run(["seekr", "list"])
        #expect(typo.status != 0 && typo.stderr.lowercased().contains("unexpected argument"))
    }

    @Test func conflictsAreListedAndResolvedByChoosingAValue() async throws {
        let id = try await addSeeker("contact.phone=0100")
        // A second laptop takes a copy, and both edit offline.
        let otherDir = dir.appending("other")
        let other = try RecordStore.create(directory: otherDir, identity: NodeIdentity(node: NodeID(rawValue: 77), name: "other", agency: "069-lyon-3"))
        let mine = try RecordStore.open(directory: node)
        try other.pull(from: mine)
        try other.edit("seeker", id, [.set("contact.phone", "0177")])
        #expect(try await navette("seeker", "set", "@dir", id, "contact.phone=0111").status == 0)
        try mine.pull(from: other)
        let listed = try await navette("conflicts", "@dir", "--json")
        let conflict = try JSONValue(parsing: listed.stdout.trimmingCharacters(in: .newlines))
        #expect(conflict["field"] == "contact.phone")
        let values = conflict["values"]!.arrayValue!
        #expect(Set(values.compactMap { $0["value"]?.stringValue }) == ["0111", "0177"])
        #expect(try await navette("seeker", "show", "@dir", id).stdout.contains("concurrent value"))
        let chosen = values.first { $0["value"] == "0177" }!["id"]!.stringValue!
        try await expectRefusal(["conflicts", "resolve", "@dir", "seeker", id, "contact.phone", "--choose", "0000000000000001-1"], mentions: "not one of the conflicting value ids")
        let resolved = try await navette("conflicts", "resolve", "@dir", "seeker", id, "contact.phone", "--choose", chosen)
        #expect(resolved.status == 0, "\(resolved.stderr)")
        #expect(try await navette("conflicts", "@dir").stdout.contains("No conflicts."))
        let phone = try JSONValue(parsing: try await navette("seeker", "show", "@dir", id, "--json").stdout.trimmingCharacters(in: .newlines))
        #expect(phone["fields"]?["contact.phone"]?["value"] == "0177")
        try other.pull(from: RecordStore.open(directory: node))
        #expect(try other.exportCanonical() == RecordStore.open(directory: node).exportCanonical())
    }

    @Test func workshopsSessionsRegistrationsAndAttendance() async throws {
        let workshop = try await navette("workshop", "add", "@dir", "--title", "Atelier CV", "defaultCapacity=2").lastLine
        let session = try await navette("workshop", "session", "add", "@dir", "--workshop", workshop, "--start", "2026-03-02T09:30+01:00").lastLine
        var seekers: [String] = []
        for _ in 0..<3 { seekers.append(try await addSeeker()) }
        var registrations: [String] = []
        for s in seekers {
            let r = try await navette("workshop", "register", "@dir", "--session", session, "--seeker", s)
            #expect(r.status == 0, "\(r.stderr)")
            registrations.append(r.lastLine)
        }
        #expect(registrations[0] == RecordKeys.registration(session: session, seeker: seekers[0]))
        // Registering again is the same registration.
        #expect(try await navette("workshop", "register", "@dir", "--session", session, "--seeker", seekers[0]).lastLine == registrations[0])
        let roster = try await navette("workshop", "session", "roster", "@dir", session)
        #expect(roster.stdout.contains("capacity 2: 2 confirmed, 1 waitlisted"), "\(roster.stdout)")
        #expect(try await navette("workshop", "unregister", "@dir", "--session", session, "--seeker", seekers[0]).status == 0)
        #expect(try await navette("workshop", "session", "roster", "@dir", session).stdout.contains("2 confirmed, 0 waitlisted"))
        #expect(try await navette("workshop", "attend", "@dir", "--session", session, "--seeker", seekers[1], "--attendance", "present").status == 0)
        try await expectRefusal(["workshop", "attend", "@dir", "--session", session, "--seeker", seekers[1], "--attendance", "maybe"], mentions: "attendance")
        #expect(try await navette("workshop", "session", "cancel", "@dir", session).status == 0)
        #expect(try await navette("workshop", "session", "show", "@dir", session).stdout.contains("cancelled"))
        try await expectRefusal(["workshop", "register", "@dir", "--session", "nope", "--seeker", seekers[0]], mentions: "no workshopSession")
    }

    @Test func erasingASeekerFromTheCommandLine() async throws {
        let id = try await addSeeker("sensitive.healthConstraints=canarycli")
        let r = try await navette("seeker", "erase", "@dir", id)
        #expect(r.status == 0)
        #expect(r.stdout.contains("Erased seeker \(id)"))
        #expect(try await navette("seeker", "list", "@dir").stdout.contains("(none)"))
        #expect(!(try await navette("export", "@dir").stdout.contains("canarycli")))
        try await expectRefusal(["seeker", "set", "@dir", id, "contact.phone=1"], mentions: "no seeker has the id")
    }

    @Test func theDemoTellsTheStoryAndConverges() async throws {
        let r = try await NavetteProcess.run(["demo"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("enrolled with code"))
        #expect(r.stdout.contains("signed round trip"))
        #expect(r.stdout.contains("the Lyon laptops and the server have converged; Paris matches the server's view for Sophie"))
        #expect(r.stdout.contains("no Lyon laptop holds Hugo's file, and Sophie holds none of Lyon's"))
        #expect(!r.stdout.contains("DIFFERENT"))
    }

    @Test func schemaListsFieldsKindsAndClasses() async throws {
        let r = try await navette("schema", "seeker")
        #expect(r.stdout.contains("sensitive.healthConstraints") && r.stdout.contains("P2"))
        #expect(try await navette("schema", "rome").stdout.contains("K2204"))
        try await expectRefusal(["schema", "spaceship"], mentions: "not a collection")
    }

    @Test func theDataGeneratorWritesTheSameBytesForTheSameSeed() async throws {
        let tool = URL(fileURLWithPath: NavetteProcess.executable).deletingLastPathComponent().appendingPathComponent("navette-datagen").path
        func generate(_ seed: String) async throws -> String {
            let r = try await NavetteProcess.run(executable: tool, ["--seed", seed, "--seekers", "40"])
            #expect(r.status == 0)
            return r.stdout
        }
        let a = try await generate("5")
        #expect(a == (try await generate("5")))
        #expect(a != (try await generate("6")))
        let lines = a.split(separator: "\n")
        #expect(lines.count > 1_000)
        for line in lines.prefix(50) { _ = try Change(encoded: Array(line.utf8)) }
    }

    @Test func importAppliesAFileOnceAndRefusesAMalformedOneWhole() async throws {
        let changes = AgencyDataset.generate(seed: 9, sizes: .scaled(seekers: 5))
        let file = dir.appending("changes.ndjson")
        try Data(changes.map(\.encoded).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: file))
        let first = try await navette("import", "@dir", file)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("\(changes.count) applied"))
        let second = try await navette("import", "@dir", file)
        #expect(second.stdout.contains("0 applied, \(changes.count) already held"))
        var model = MemoryReplica(node: NodeID(rawValue: 5))
        model.apply(changes)
        let exported = try await navette("export", "@dir").stdout.trimmingCharacters(in: .newlines)
        // The CLI node also holds its own identity's nothing: exports match the model.
        #expect(exported == model.export())
        let bad = dir.appending("bad.ndjson")
        try Data((changes.prefix(3).map(\.encoded) + [#"{"id":"x"}"#]).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: bad))
        try await expectRefusal(["import", "@dir", bad], mentions: "line 4 is not a change")
    }

    @Test func theBenchmarkToolRefusesAnUnknownScenario() async throws {
        let tool = URL(fileURLWithPath: NavetteProcess.executable).deletingLastPathComponent().appendingPathComponent("navette-bench").path
        let r = try await NavetteProcess.run(executable: tool, ["--quick", "--only", "server,servers"])
        #expect(r.status != 0 && r.stderr.contains("'--only' takes") && r.stderr.contains("not servers"), "\(r.stderr)")
    }

    @Test func theBenchmarkToolRunsItsQuickFormAndWritesJSON() async throws {
        let tool = URL(fileURLWithPath: NavetteProcess.executable).deletingLastPathComponent().appendingPathComponent("navette-bench").path
        let out = dir.appending("bench.json")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["--quick", "--json", out]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        await p.exited()
        #expect(p.terminationStatus == 0)
        let doc = try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        let ids = doc["scenarios"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(Array(ids.prefix(7)) == ["local-write", "apply", "bootstrap", "no-op-sync", "wire-bytes", "catch-up", "node-memory"])
        #expect(ids.dropFirst(7).prefix(8).allSatisfy { $0 == "poor-link" } && ids[15] == "server")
        // With a PostgreSQL database (CI has one), the server scenario also runs there with 1 and 2 processes.
        let postgres = ProcessEnvironment.value("NAVETTE_POSTGRES_URL") != nil
        #expect(Array(ids.dropFirst(16)) == (postgres ? ["server-postgres-1", "server-postgres-2"] : []))
        // A smoke test: figures exist; timings are judged by the release run, not here.
        #expect(doc["scenarios"]?.arrayValue?.allSatisfy { $0["baseline"]?.objectValue?.isEmpty == false } == true)
    }
}
