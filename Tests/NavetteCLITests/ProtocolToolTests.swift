import Foundation
import NavetteTesting
import Testing

/// The integrator's tools, as an integrator runs them against a real
/// `navette serve`: the curl and openssl walk-through, and the conformance
/// tool with a data directory or with a file of codes.
struct ProtocolToolTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func run(_ executable: String, _ arguments: [String]) async throws -> NavetteProcess.Result {
        try await NavetteProcess.run(executable: executable, arguments, currentDirectory: repository)
    }

    static var conformance: String {
        URL(fileURLWithPath: NavetteProcess.executable).deletingLastPathComponent().appendingPathComponent("navette-conformance").path
    }

    func code(_ data: String, agency: String, counsellor: String) async throws -> String {
        try await NavetteProcess.run(["admin", "enrol", "--data", data, "--agency", agency, "--counsellor", counsellor]).lastLine
    }

    @Test func theCurlWalkthroughEnrolsPushesPullsAndVerifiesTheServersSignature() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-walkthrough")
        defer { dir.remove() }
        let data = dir.appending("server")
        let (server, url) = try await ServerCommandTests.startServer(data: data, output: dir.appending("serve.log"))
        defer { server.terminate() }
        let code = try await code(data, agency: "075-paris-12", counsellor: "c-0042")
        let script = Self.repository.appendingPathComponent("Protocol/tools/walkthrough.sh").path
        let r = try await Self.run("/bin/bash", [script, url, code, dir.appending("work")])
        #expect(r.status == 0, "\(r.stdout.suffix(800))\(r.stderr)")
        #expect(r.stdout.contains("\"accepted\":2"))
        #expect(r.stdout.contains("the answer's signature verifies with the pinned key"))
        #expect(r.stdout.contains("401 (replay)"))
        // A used code is refused, and the script says so and fails.
        let again = try await Self.run("/bin/bash", [script, url, code, dir.appending("again")])
        #expect(again.status != 0 && again.stderr.contains("enrolment answered 403"))
    }

    @Test func theConformanceToolPassesAgainstARunningServerWithItsDataDirectory() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-conformance-cli")
        defer { dir.remove() }
        let data = dir.appending("server")
        let (server, url) = try await ServerCommandTests.startServer(data: data, output: dir.appending("serve.log"))
        defer { server.terminate() }
        let r = try await Self.run(Self.conformance, ["--server", url, "--data", data])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.lastLine.hasPrefix("52 passed, 0 failed, 0 not run"), "\(r.lastLine)")
    }

    @Test func withOnlyAFileOfCodesTheAdminRequirementsAreNotRun() async throws {
        let dir = try TemporaryDirectory(prefix: "navette-conformance-codes")
        defer { dir.remove() }
        let data = dir.appending("server")
        let (server, url) = try await ServerCommandTests.startServer(data: data, output: dir.appending("serve.log"))
        defer { server.terminate() }
        var first: [String] = []
        for _ in 0..<4 { first.append(try await code(data, agency: "075-paris-12", counsellor: "c-0042")) }
        let second = try await code(data, agency: "069-lyon-3", counsellor: "c-0107")
        let file = dir.appending("codes.json")
        let json = """
            {"agencies":[{"agency":"075-paris-12","counsellor":"c-0042","codes":[\(first.map { "\"\($0)\"" }.joined(separator: ","))]},
                         {"agency":"069-lyon-3","counsellor":"c-0107","codes":["\(second)"]}]}
            """
        try json.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try await Self.run(Self.conformance, ["--server", url, "--codes", file])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.lastLine.hasPrefix("49 passed, 0 failed, 3 not run"), "\(r.lastLine)")
        for id in ["ENROL-005", "SYNC-013", "SYNC-017"] {
            #expect(r.stdout.contains("not run   \(id)"))
        }
        let bad = try await Self.run(Self.conformance, ["--server", url])
        #expect(bad.status != 0 && bad.stderr.contains("Give exactly one of --data DIR"))
    }
}
