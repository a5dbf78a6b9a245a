import Crypto
import Foundation
import Hummingbird
import Logging
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore
import NavetteTesting
import NavetteWire
import Synchronization

/// The server scenario: N nodes doing signed incremental syncs for T seconds
/// against a server in a separate process, beside a bare Hummingbird
/// endpoint's rate and the cost of one Ed25519 verification.
/// Counts shared by the tasks of a load run.
final class Tally: Sendable {
    let latencies = Mutex<[Double]>([])
    let errors = Mutex(0)
    let count = Mutex(0)
}

enum ServerThroughput {
    /// Runs `navette-bench` itself as a server process (`--serve DIR`) or as a
    /// bare endpoint (`--bare`); returns the process and its URL.
    static func spawn(_ arguments: [String]) throws -> (Process, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var line = ""
        let handle = out.fileHandleForReading
        while !line.contains("\n") {
            let d = handle.availableData
            if d.isEmpty { break }
            line += String(decoding: d, as: UTF8.self)
        }
        guard let url = line.split(separator: "\n").first.map({ String($0).replacingOccurrences(of: "listening on ", with: "") }) else {
            throw BenchError("the server process did not start")
        }
        return (p, url)
    }

    /// The CPU time (user + system) a process has used, in seconds, and its
    /// peak RSS in MB, from /proc.
    static func usage(_ pid: Int32) -> (cpu: Double, rssMB: Double) {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu = fields.count > 13 ? (Double(fields[11]) ?? 0) / ticks + (Double(fields[12]) ?? 0) / ticks : 0
        return (cpu, Double(ProcessMemory.peakMegabytes(pid: pid)))
    }

    /// Microseconds one Ed25519 verification takes here.
    static func verifyMicroseconds() throws -> Double {
        let key = Curve25519.Signing.PrivateKey()
        let message = Array(repeating: UInt8(7), count: 400)
        let signature = try key.signature(for: message)
        let n = 2_000
        let t = ContinuousClock.now
        for _ in 0..<n { _ = key.publicKey.isValidSignature(signature, for: message) }
        return seconds(ContinuousClock.now - t) / Double(n) * 1e6
    }

    static func run(nodes count: Int, duration: Duration, dir: TemporaryDirectory, seed: UInt64) async throws -> [Scenario] {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let data = dir.appending("throughput-server")
        // Prepare the server's data: an agency and one code per node.
        var codes: [String] = []
        do {
            let server = try await SyncServer.open(directory: data, configuration: ServerConfiguration(wallClock: RecordStore.systemMillis), logger: logger)
            for i in 0..<count {
                codes.append(try await server.issueEnrolmentCode(agency: "069-lyon-3", counsellor: "c\(i % 20)", name: nil, validFor: 3_600_000, actor: "bench"))
            }
        }
        let (process, url) = try spawn(["--serve", data])
        defer { process.terminate(); process.waitUntilExit() }
        var engines: [SyncEngine] = []
        for (i, code) in codes.enumerated() {
            let path = dir.appending("throughput-node-\(i)")
            let store = try RecordStore.create(directory: path, identity: NodeIdentity(node: NodeID(rawValue: 0xE000 + UInt64(i)), name: "n\(i)", agency: "x"))
            let engine = SyncEngine(store: store, key: try NodeKey.create(directory: path), logger: logger)
            try await engine.enrol(server: url, code: code)
            _ = try store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", .string("c\(i % 20)")), .set("identity.lastName", "N")])
            _ = try await engine.sync()
            engines.append(engine)
        }
        let before = usage(process.processIdentifier)
        let tally = Tally()
        let deadline = ContinuousClock.now + duration
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for (i, engine) in engines.enumerated() {
                group.addTask {
                    var k = 0
                    while ContinuousClock.now < deadline {
                        k += 1
                        do {
                            let id = try engine.store.list("seeker").first!.id
                            try engine.store.edit("seeker", id, [.set("contact.phone", .string("06 \(i) \(k)"))])
                            let t = ContinuousClock.now
                            _ = try await engine.sync()
                            let l = seconds(ContinuousClock.now - t)
                            tally.latencies.withLock { $0.append(l) }
                        } catch {
                            tally.errors.withLock { $0 += 1 }
                        }
                    }
                }
            }
        }
        let elapsed = seconds(ContinuousClock.now - start)
        let after = usage(process.processIdentifier)
        let all = tally.latencies.withLock { $0 }
        let syncs = Double(all.count)
        let cpuPerSync = (after.cpu - before.cpu) / max(syncs, 1)
        let verify = try verifyMicroseconds()
        // The bare endpoint: the same number of clients, as fast as they can, for the same time.
        let (bare, bareURL) = try spawn(["--bare"])
        defer { bare.terminate(); bare.waitUntilExit() }
        let bareTally = Tally()
        let bareDeadline = ContinuousClock.now + duration
        let bareStart = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask {
                    while ContinuousClock.now < bareDeadline {
                        if (try? await HTTPTransport().send(TransportRequest(url: bareURL + "/ping", method: "GET", headers: [], body: nil))) != nil {
                            bareTally.count.withLock { $0 += 1 }
                        }
                    }
                }
            }
        }
        let bareRate = Double(bareTally.count.withLock { $0 }) / seconds(ContinuousClock.now - bareStart)
        // Each sync here is two signed exchanges (push, pull): two verifications and two signatures.
        let ratio = cpuPerSync / (verify / 1e6)
        return [
            Scenario(
                id: "server", what: "\(count) nodes, signed incremental syncs (edit, push, pull) for \(Int(seconds(duration))) s, server in its own process",
                figures: [
                    "syncs/s": syncs / elapsed, "p99 latency ms": all.isEmpty ? 0 : percentile(all, 0.99) * 1000,
                    "server CPU ms/sync": cpuPerSync * 1000, "server peak RSS MB": after.rssMB,
                    "errors": Double(tally.errors.withLock { $0 }),
                ],
                baseline: ["Ed25519 verify µs": verify, "bare endpoint requests/s": bareRate],
                baselineName: "one Ed25519 verification; a bare Hummingbird endpoint",
                ratio: ratio, goal: "server CPU per sync ≤ 4 verifications; RSS ≤ 150 MB at 200 nodes",
                met: ratio <= 4 && (count < 200 || after.rssMB <= 150)),
        ]
    }

    /// `--serve DIR`: the server for the scenario.
    static func serve(_ directory: String) async throws {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let server = try await SyncServer.open(
            directory: directory,
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, requestsPerMinute: 1_000_000, wallClock: RecordStore.systemMillis),
            logger: logger)
        try await HTTPServer.serve(server: server, tls: nil, logger: logger) { url in
            FileHandle.standardOutput.write(Data("listening on \(url)\n".utf8))
        }
    }

    /// `--bare`: a bare Hummingbird endpoint, for scale.
    static func bare() async throws {
        let router = Router()
        router.get("ping") { _, _ in "ok" }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
            }, logger: Logger(label: "bare") { _ in SwiftLogNoOpLogHandler() })
        try await app.runService()
    }
}
