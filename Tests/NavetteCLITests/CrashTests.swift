import Foundation
import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// A writer process is killed with SIGKILL at random points; every write it
/// reported as committed must be there after reopening, and SQLite's
/// integrity check must pass. `NAVETTE_CRASH_KILLS` sets the number of kill
/// points (default 20; `NAVETTE_FULL=1` runs 100).
struct CrashTests {
    @Test func everyReportedCommitSurvivesSIGKILL() async throws {
        let seed = testSeed(0xC4A5)
        var rng = SplitMix64(seed: seed)
        let kills = environmentInt("NAVETTE_CRASH_KILLS", default: ProcessEnvironment.value("NAVETTE_FULL") == "1" ? 100 : 20)
        print("crash test: \(kills) kill points from seed \(seed)")
        let dir = try TemporaryDirectory(prefix: "navette-crash")
        defer { dir.remove() }
        let node = dir.appending("node")
        try await NavetteProcess.run(["node", "init", "--dir", node, "--name", "crash", "--agency", "069-lyon-3"])
        var reported: [(kind: Substring, seeker: String, value: String)] = []
        for round in 0..<kills {
            let lines = try await runAndKill(node: node, afterMicroseconds: UInt32(rng.int(in: 20_000...400_000)))
            for line in lines {
                let parts = line.split(separator: " ")
                guard parts.count == 4, parts[0] == "committed" else { continue }
                reported.append((parts[1], String(parts[2]), String(parts[3])))
            }
            let store = try RecordStore.open(directory: node)
            #expect(try store.integrityCheck() == "ok", "round \(round), seed \(seed)")
            // The last reported value of each seeker's phone must be there (or a later one).
            var lastPhone: [String: String] = [:]
            for r in reported {
                let state = try store.state("seeker", r.seeker)
                #expect(state != nil, "a reported commit is missing after SIGKILL (round \(round), seed \(seed))")
                if r.kind == "edit" { lastPhone[r.seeker] = r.value }
            }
            for (seeker, phone) in lastPhone {
                let shown = try store.state("seeker", seeker)!.view(of: Schema.navette.field("seeker", "contact.phone")!).shown
                let n = Int(phone.dropFirst())!
                let m = shown?.stringValue.flatMap { Int($0.dropFirst()) } ?? 0
                #expect(m >= n, "seeker \(seeker) lost the reported phone p\(n) (has p\(m)); seed \(seed)")
            }
        }
        #expect(reported.count > kills, "the writer must have committed something between kills")
    }

    /// Starts the writer, kills it with SIGKILL after a delay, returns what it reported.
    func runAndKill(node: String, afterMicroseconds delay: UInt32) async throws -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: NavetteProcess.executable)
        p.arguments = ["_write-loop", "--dir", node]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        await pause(microseconds: Int(delay))
        kill(p.processIdentifier, SIGKILL)
        await p.exited()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
