import ArgumentParser
import Foundation
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting

/// `chaos`: a real server and real laptop processes, random edits, processes
/// killed and restarted, links faulted through the TCP proxy — then
/// everything syncs and every laptop's export must equal the server's state
/// restricted to its view.
///
/// ```sh
/// swift build && .build/debug/chaos --quick          # about 30 s
/// .build/debug/chaos --steps 400 --seed 42           # replays a run
/// ```
///
/// It prints its seed, each step, and a verdict on its last line
/// (`chaos: PASS …` or `chaos: FAIL …`); the exit status is 1 on failure.
@main
struct Chaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Kill, restart and fault a real Navette server and laptops at random; check that they converge.")

    @Flag(help: "The short form: 3 laptops, 40 steps.") var quick = false
    @Option(help: "How many random steps (default 200; 40 with --quick).") var steps: Int?
    @Option(help: "The seed (default: random); the same seed replays the same choices.") var seed: UInt64?
    @Option(help: "The navette executable (default: next to this one).") var navette: String?
    @Option(help: "Where to keep the stores (default: a new temporary directory, removed on success).") var dir: String?

    func run() async throws {
        let seed = self.seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let steps = self.steps ?? (quick ? 40 : 200)
        let executable = navette ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("navette").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ValidationError("no navette executable at \(executable); build it first or give --navette")
        }
        let root = dir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("navette-chaos-\(seed)")
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        print("chaos: seed \(seed), \(steps) steps, in \(root)")
        var run = try await ChaosRun(seed: seed, root: root, executable: executable, laptops: quick ? 3 : 5)
        let verdict = await run.play(steps: steps)
        print(verdict.line)
        if verdict.passed, dir == nil { try? FileManager.default.removeItem(atPath: root) }
        if !verdict.passed { throw ExitCode(1) }
    }
}

/// One run: the processes, the proxy, the random choices, the tally.
struct ChaosRun {
    struct Laptop {
        var dir: String
        var agency: String
        var counsellor: String
    }

    var rng: SplitMix64
    let seed: UInt64
    let root: String
    let executable: String
    let data: String
    let serverPort: Int
    let proxy: TCPProxy
    var server: Process
    var laptops: [Laptop] = []
    var tally: [String: Int] = [:]

    init(seed: UInt64, root: String, executable: String, laptops count: Int) async throws {
        self.seed = seed
        self.rng = SplitMix64(seed: seed)
        self.root = root
        self.executable = executable
        self.data = (root as NSString).appendingPathComponent("server")
        // The server listens on a port of its own; laptops reach it through the proxy.
        let (first, url) = try Self.startServer(executable: executable, data: data, port: 0, publicURL: nil, log: root + "/serve-0.log")
        serverPort = Int(url.split(separator: ":").last!)!
        first.terminate()
        first.waitUntilExit()
        proxy = try await TCPProxy.start(upstreamPort: serverPort)
        (server, _) = try Self.startServer(
            executable: executable, data: data, port: serverPort, publicURL: "http://127.0.0.1:\(proxy.port)", log: root + "/serve-1.log")
        let agencies = ["069-lyon-3", "075-paris-1"]
        for i in 0..<count {
            // Laptops 1 and 2 share a counsellor (and so their files); the others have their own.
            let agency = i == 2 ? agencies[1] : agencies[0]
            let counsellor = i < 2 ? "c1" : "c\(i)"
            let dir = (root as NSString).appendingPathComponent("laptop-\(i + 1)")
            let code = try Self.run(executable, ["admin", "enrol", "--data", data, "--agency", agency, "--counsellor", counsellor]).lastLine
            let made = try Self.run(
                executable, ["node", "init", "--dir", dir, "--name", "chaos \(i + 1)", "--server", "http://127.0.0.1:\(proxy.port)", "--code", code])
            guard made.status == 0 else { throw ValidationError("laptop \(i + 1) could not enrol: \(made.stderr)") }
            laptops.append(Laptop(dir: dir, agency: agency, counsellor: counsellor))
        }
    }

    // MARK: - Playing

    mutating func play(steps: Int) async -> (passed: Bool, line: String) {
        for step in 1...steps {
            let action = rng.int(in: 0..<100)
            let i = rng.int(in: 0..<laptops.count)
            let l = laptops[i]
            var what: String
            do {
                switch action {
                case 0..<35:
                    let n = rng.int(in: 5...80)
                    let r = try Self.run(executable, ["_write-loop", "--dir", l.dir, "--count", "\(n)", "--agency", l.agency, "--referent", l.counsellor])
                    what = "laptop \(i + 1) writes \(n) edits" + (r.status == 0 ? "" : " (failed: \(r.status))")
                    count("edits", n)
                case 35..<60:
                    let r = try Self.run(executable, ["sync", "--dir", l.dir, "--quiet"])
                    what = "laptop \(i + 1) syncs: " + (r.status == 0 ? "ok" : "failed, will retry")
                    count(r.status == 0 ? "syncs" : "failed syncs")
                case 60..<72:
                    let delay = rng.int(in: 5_000...300_000)
                    let finished = try Self.runAndKill(executable, ["sync", "--dir", l.dir, "--quiet"], afterMicroseconds: UInt32(delay))
                    what = "laptop \(i + 1) syncs and is killed after \(delay / 1000) ms" + (finished ? " (it had finished)" : "")
                    count("laptop kills")
                case 72..<80:
                    kill(server.processIdentifier, SIGKILL)
                    server.waitUntilExit()
                    (server, _) = try Self.startServer(
                        executable: executable, data: data, port: serverPort, publicURL: "http://127.0.0.1:\(proxy.port)",
                        log: root + "/serve-\(step).log")
                    what = "the server is killed and restarted"
                    count("server kills")
                case 80..<92:
                    let planSeed = rng.next()
                    let faulty = rng.int(in: 2...12)
                    proxy.plan { n in
                        var r = SplitMix64(seed: planSeed &+ UInt64(n))
                        return r.chance(0.7) ? TCPProxy.ConnectionFault.random(using: &r, stall: false) : nil
                    }
                    // The plan holds for a while, then the link heals.
                    let r = try Self.run(executable, ["sync", "--dir", l.dir, "--quiet"])
                    for _ in 1..<faulty { _ = try Self.run(executable, ["sync", "--dir", laptops[rng.int(in: 0..<laptops.count)].dir, "--quiet"]) }
                    proxy.plan(nil)
                    what = "the link faults connections at random for \(faulty) syncs (laptop \(i + 1) \(r.status == 0 ? "got through" : "failed"))"
                    count("fault windows")
                default:
                    let bytes = rng.pick([100, 1_000, 5_000, 20_000])
                    proxy.cutAfter(bytes: bytes, direction: rng.chance(0.5) ? .toServer : .toClient, connections: 1)
                    let r = try Self.run(executable, ["sync", "--dir", l.dir, "--quiet"])
                    proxy.heal()
                    what = "the link is cut after \(bytes) bytes during laptop \(i + 1)'s sync (\(r.status == 0 ? "it recovered" : "it failed"))"
                    count("cuts")
                }
            } catch {
                what = "step failed to run: \(error)"
                count("step errors")
            }
            print("step \(step): \(what)")
        }
        return await verdict()
    }

    mutating func count(_ key: String, _ n: Int = 1) { tally[key, default: 0] += n }

    /// Heals everything, syncs everyone, and compares every laptop with its view.
    mutating func verdict() async -> (passed: Bool, line: String) {
        proxy.plan(nil)
        proxy.heal()
        var problems: [String] = []
        for _ in 0..<3 {
            for l in laptops { _ = try? Self.run(executable, ["sync", "--dir", l.dir, "--quiet"]) }
        }
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        do {
            let store = try RecordStore.open(directory: data)
            if try store.integrityCheck() != "ok" { problems.append("the server's store fails integrity_check") }
            for (i, l) in laptops.enumerated() {
                let mine = try RecordStore.open(directory: l.dir)
                if try mine.integrityCheck() != "ok" { problems.append("laptop \(i + 1)'s store fails integrity_check") }
                let status = try mine.status()
                if status.pending > 0 { problems.append("laptop \(i + 1) still has \(status.pending) changes to push") }
                let view = try store.exportCanonical(view: try store.view(ViewSpec(agency: l.agency, counsellor: l.counsellor, agencyWide: false)))
                if try mine.exportCanonical() != view { problems.append("laptop \(i + 1) differs from its view on the server") }
            }
        } catch {
            problems.append("the stores could not be read: \(error)")
        }
        let summary = tally.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        if problems.isEmpty {
            return (true, "chaos: PASS seed=\(seed): \(laptops.count) laptops converged with the server after \(summary)")
        }
        return (false, "chaos: FAIL seed=\(seed): \(problems.joined(separator: "; ")) (after \(summary))")
    }

    // MARK: - Processes

    static func run(_ executable: String, _ arguments: [String]) throws -> ChildProcess.Output {
        try ChildProcess.run(executable, arguments)
    }

    /// Starts a command, kills it after `delay`; returns whether it had finished.
    static func runAndKill(_ executable: String, _ arguments: [String], afterMicroseconds delay: UInt32) throws -> Bool {
        let p = try ChildProcess.start(executable, arguments)
        usleep(delay)
        let finished = !p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return finished
    }

    static func startServer(executable: String, data: String, port: Int, publicURL: String?, log: String) throws -> (Process, String) {
        try ChildProcess.startServer(
            executable, ["serve", "--data", data, "--port", "\(port)"] + (publicURL.map { ["--public-url", $0] } ?? []), log: log)
    }
}
