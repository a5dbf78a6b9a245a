import Crypto
import Foundation
import GRDBSQLite
import Hummingbird
import Logging
import NavetteClient
import NavetteCore
import NavettePostgres
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

/// Ed25519 over a 400-byte message, timed in the calling thread's CPU time
/// (as the server's is measured: a shared machine's stolen time would count
/// in wall time only).
struct Ed25519Timer {
    let key = Curve25519.Signing.PrivateKey()
    let message = Array(repeating: UInt8(7), count: 400)
    let signature: Data

    init() throws { signature = try key.signature(for: message) }

    /// Microseconds of CPU per verification and per signature, over `n` of each.
    func round(_ n: Int) -> (verify: Double, sign: Double) {
        let t0 = threadCPUSeconds()
        for _ in 0..<n { _ = key.publicKey.isValidSignature(signature, for: message) }
        let t1 = threadCPUSeconds()
        for _ in 0..<n { _ = try? key.signature(for: message) }
        let t2 = threadCPUSeconds()
        return ((t1 - t0) / Double(n) * 1e6, (t2 - t1) / Double(n) * 1e6)
    }
}

/// Times Ed25519 while a load runs: a round of 50 verifications and 50
/// signatures each second. On a shared machine the cost of the same
/// operation moves by half from minute to minute (71–138 µs per verification
/// within one run); the server's CPU is divided by what a verification cost
/// while it worked.
final class Ed25519Sampler: Sendable {
    let stopped = Mutex(false)
    let samples = Mutex<(verify: [Double], sign: [Double])>(([], []))

    func start() {
        Thread.detachNewThread { [self] in
            guard let timer = try? Ed25519Timer() else { return }
            while !stopped.withLock({ $0 }) {
                let (v, s) = timer.round(50)
                samples.withLock {
                    $0.verify.append(v)
                    $0.sign.append(s)
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// Stops sampling; the medians, or `nil` when no round finished.
    func finish() -> (verify: Double, sign: Double, rounds: Int)? {
        stopped.withLock { $0 = true }
        let (v, s) = samples.withLock { $0 }
        guard !v.isEmpty else { return nil }
        return (percentile(v, 0.5), percentile(s, 0.5), v.count)
    }
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

    /// Microseconds of CPU one Ed25519 verification, and one signature, take
    /// here with the machine at rest: the medians of five rounds of 400;
    /// beside ``Ed25519Sampler``'s figures.
    static func ed25519Microseconds() throws -> (verify: Double, sign: Double) {
        let timer = try Ed25519Timer()
        let rounds = (0..<5).map { _ in timer.round(400) }
        return (percentile(rounds.map(\.verify), 0.5), percentile(rounds.map(\.sign), 0.5))
    }

    /// The CPU time (user and system) of one durable
    /// single-row commit through SQLite's C API in the store's mode (WAL,
    /// `synchronous=FULL`), in microseconds: 400 commits, of 200-byte rows.
    /// The time waiting for the disk is not CPU; the kernel's work for the
    /// write and the `fdatasync` is.
    static func durableCommitMicroseconds(_ dir: TemporaryDirectory) throws -> Double {
        let raw = try RawSQLite(path: dir.appending("raw-commits.sqlite"))
        try raw.exec("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
        let insert = try raw.prepare("INSERT OR REPLACE INTO t (k, v) VALUES (?, ?)")
        defer { sqlite3_finalize(insert) }
        let value = String(repeating: "v", count: 200)
        let n = 400
        // The process's CPU (`clock`, user and system); nothing else runs in
        // it meanwhile.
        func processCPU() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }
        let start = processCPU()
        for i in 0..<n { try raw.run(insert, ["k\(i % 1_000)", value]) }
        return (processCPU() - start) / Double(n) * 1e6
    }

    /// Where the scenario's server keeps its data.
    enum Storage: Sendable {
        /// `--data DIR`, one process.
        case sqlite
        /// Tables of a fresh prefix in the PostgreSQL database at `url`,
        /// served by `processes` processes behind a round-robin balancer.
        case postgres(url: String, processes: Int)
    }

    static func run(
        nodes count: Int, duration: Duration, dir: TemporaryDirectory, seed: UInt64, storage: Storage = .sqlite
    ) async throws -> [Scenario] {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        var codes: [String] = []
        let processes: [Process]
        let url: String
        var proxy: TCPProxy?
        var tablePrefix: String?
        let id: String
        let what: String
        switch storage {
        case .sqlite:
            let data = dir.appending("throughput-server")
            // Prepare the server's data: an agency and one code per node.
            do {
                let server = try await SyncServer.open(directory: data, configuration: ServerConfiguration(wallClock: RecordStore.systemMillis), logger: logger)
                for i in 0..<count {
                    codes.append(try await server.issueEnrolmentCode(agency: "069-lyon-3", counsellor: "c\(i % 20)", name: nil, validFor: 3_600_000, actor: "bench"))
                }
            }
            let (process, address) = try spawn(["--serve", data])
            processes = [process]
            url = address
            id = "server"
            what = "server in its own process, embedded SQLite"
        case .postgres(let database, let n):
            let prefix = "bench\(UInt32.random(in: 0...UInt32.max))"
            tablePrefix = prefix
            codes = try await PostgresStorage.with(url: try PostgresURL(database), prefix: prefix, logger: logger) { storage in
                let server = try await SyncServer.start(
                    records: storage.records, registry: storage.registry, configuration: ServerConfiguration(wallClock: RecordStore.systemMillis),
                    logger: logger)
                var out: [String] = []
                for i in 0..<count {
                    out.append(try await server.issueEnrolmentCode(agency: "069-lyon-3", counsellor: "c\(i % 20)", name: nil, validFor: 3_600_000, actor: "bench"))
                }
                return out
            }
            let balancer = try await TCPProxy.start(upstreamPorts: [])
            proxy = balancer
            url = "http://127.0.0.1:\(balancer.port)"
            var started: [Process] = []
            var ports: [Int] = []
            for _ in 0..<n {
                let (p, address) = try spawn(["--serve-postgres", database, "--prefix", prefix, "--public-url", url])
                started.append(p)
                ports.append(Int(address.split(separator: ":").last!)!)
            }
            balancer.balance(over: ports)
            processes = started
            id = "server-postgres-\(n)"
            what = "\(n) server process\(n == 1 ? "" : "es") on PostgreSQL\(n > 1 ? " behind a round-robin balancer" : "")"
        }
        defer {
            for p in processes {
                p.terminate()
                p.waitUntilExit()
            }
        }
        var engines: [SyncEngine] = []
        for (i, code) in codes.enumerated() {
            let path = dir.appending("\(id)-node-\(i)")
            let store = try RecordStore.create(directory: path, identity: NodeIdentity(node: NodeID(rawValue: 0xE000 + UInt64(i)), name: "n\(i)", agency: "x"))
            let engine = SyncEngine(store: store, key: try NodeKey.create(directory: path), logger: logger)
            try await engine.enrol(server: url, code: code)
            _ = try store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("referent", .string("c\(i % 20)")), .set("identity.lastName", "N")])
            _ = try await engine.sync()
            engines.append(engine)
        }
        let databasePIDs = postgresPIDs()
        func serverUsage() -> (cpu: Double, rssMB: Double, databaseCPU: Double) {
            let each = processes.map { usage($0.processIdentifier) }
            return (each.map(\.cpu).reduce(0, +), each.map(\.rssMB).max() ?? 0, databasePIDs.map { usage($0).cpu }.reduce(0, +))
        }
        let sampler = Ed25519Sampler()
        sampler.start()
        let before = serverUsage()
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
                            // A counsellor's edits go to the files the laptop
                            // holds (its referent's, which nine other laptops
                            // hold too), three fields in turn. Editing one
                            // slot hundreds of times a minute, as earlier
                            // runs did, made each apply read a list of
                            // superseded ids that grows with the run's length.
                            let held = try engine.store.list("seeker")
                            let id = held[k % held.count].id
                            let edit: Edit
                            switch k % 3 {
                            case 0: edit = .set("contact.phone", .string("06 \(i) \(k)"))
                            case 1: edit = .set("contact.email", .string("n\(i).\(k)@example.org"))
                            default: edit = .set("situation.modality", .string(["suivi", "guide", "renforce"][k % 9 / 3]))
                            }
                            try engine.store.edit("seeker", id, [edit])
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
        let after = serverUsage()
        if let proxy { try await proxy.stop() }
        if case .postgres(let database, _) = storage, let prefix = tablePrefix {
            try await PostgresStorage.with(url: try PostgresURL(database), prefix: prefix, logger: logger) { try await $0.dropTables() }
        }
        let all = tally.latencies.withLock { $0 }
        let syncs = Double(all.count)
        let cpuPerSync = (after.cpu - before.cpu) / max(syncs, 1)
        let databaseCPUPerSync = (after.databaseCPU - before.databaseCPU) / max(syncs, 1)
        let sampled = sampler.finish()
        let idle = try ed25519Microseconds()
        let (verify, sign) = sampled.map { ($0.verify, $0.sign) } ?? idle
        // The bare endpoint: the same number of clients, as fast as they can, for the same time.
        let (bare, bareURL) = try spawn(["--bare"])
        defer { bare.terminate(); bare.waitUntilExit() }
        let bareTally = Tally()
        let bareBefore = usage(bare.processIdentifier)
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
        let bareRequests = Double(bareTally.count.withLock { $0 })
        let bareRate = bareRequests / seconds(ContinuousClock.now - bareStart)
        let bareCPU = (usage(bare.processIdentifier).cpu - bareBefore.cpu) / max(bareRequests, 1)
        // Each sync here is two signed exchanges (push, pull): two HTTP
        // requests, two verifications and two signatures at the least.
        let floor = 2 * bareCPU + 2 * (verify + sign) / 1e6
        let ratio = cpuPerSync / (verify / 1e6)
        var figures: [String: Double] = [
            "syncs/s": syncs / elapsed, "p99 latency ms": all.isEmpty ? 0 : percentile(all, 0.99) * 1000,
            "server CPU ms/sync": cpuPerSync * 1000, "server peak RSS MB": after.rssMB,
            "errors": Double(tally.errors.withLock { $0 }),
            "server CPU per sync ÷ floor": cpuPerSync / floor,
        ]
        var baselineName = "one Ed25519 verification (CPU time, median of \(sampled?.rounds ?? 5) rounds \(sampled == nil ? "after" : "during") the load); a bare Hummingbird endpoint; the floor of a sync (2 bare requests, 2 verifications, 2 signatures)"
        var baseline: [String: Double] = [
            "Ed25519 verify µs": verify, "Ed25519 sign µs": sign, "bare endpoint requests/s": bareRate,
            "Ed25519 verify µs, after the load": idle.verify,
            "bare endpoint CPU µs/request": bareCPU * 1e6, "floor ms/sync": floor * 1000,
        ]
        switch storage {
        case .sqlite:
            // With storage, for scale: the four durable commits a sync makes
            // in the server's process (each request's nonce, the push's
            // records, the push's bookkeeping).
            let commit = try durableCommitMicroseconds(dir)
            let storageFloor = floor + 4 * commit / 1e6
            baseline["durable commit CPU µs"] = commit
            baseline["floor with 4 commits ms/sync"] = storageFloor * 1000
            figures["server CPU per sync ÷ floor with 4 commits"] = cpuPerSync / storageFloor
            baselineName += ", and with its 4 durable commits"
        case .postgres:
            figures["PostgreSQL CPU ms/sync"] = databaseCPUPerSync * 1000
        }
        return [
            Scenario(
                id: id, what: "\(count) nodes, signed incremental syncs (an edit to a held file, push, pull) for \(Int(seconds(duration))) s, \(what)",
                figures: figures,
                baseline: baseline,
                baselineName: baselineName,
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

    /// `--serve-postgres URL --prefix P --public-url U`: one server process
    /// of the PostgreSQL scenarios.
    static func servePostgres(_ database: String, prefix: String, publicURL: String) async throws {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, requestsPerMinute: 1_000_000, wallClock: RecordStore.systemMillis)
        configuration.publicAuthority = URL(string: publicURL).flatMap { u in u.host.map { "\($0):\(u.port ?? 80)" } }
        try await PostgresStorage.with(url: try PostgresURL(database), prefix: prefix, logger: logger) { storage in
            let server = try await SyncServer.start(records: storage.records, registry: storage.registry, configuration: configuration, logger: logger)
            try await HTTPServer.serve(server: server, tls: nil, logger: logger) { url in
                FileHandle.standardOutput.write(Data("listening on \(url)\n".utf8))
            }
        }
    }

    /// The processes of the PostgreSQL server on this machine (its CPU is
    /// part of what a sync costs).
    static func postgresPIDs() -> [Int32] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return all.compactMap(Int32.init).filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").hasPrefix("postgres")
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
