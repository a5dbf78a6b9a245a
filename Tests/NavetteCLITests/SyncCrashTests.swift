import Foundation
import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// Processes killed with SIGKILL in the middle of syncs: a laptop's `navette
/// sync`, and the server while it applies pushes. After each kill, the
/// stores pass SQLite's integrity check and nothing acknowledged is lost;
/// at the end, every store converges.
///
/// 16 rounds of laptop syncs (12 killed) and 8 server kills by default;
/// `NAVETTE_SYNC_KILLS` and `NAVETTE_SERVER_KILLS` set them (`NAVETTE_FULL=1`:
/// 134 rounds, about 100 kills, and 30).
@Suite(.serialized)
struct SyncCrashTests {
    static var full: Bool { ProcessEnvironment.value("NAVETTE_FULL") == "1" }

    func navette(_ args: String...) async throws -> NavetteProcess.Result { try await NavetteProcess.run(args) }

    /// Starts `navette sync`, kills it after `delay`; returns whether it had finished.
    func syncAndKill(_ node: String, afterMicroseconds delay: UInt32) async throws -> Bool {
        let p = try ChildProcess.start(NavetteProcess.executable, ["sync", "--dir", node, "--quiet"])
        await pause(microseconds: Int(delay))
        let finished = !p.isRunning
        kill(p.processIdentifier, SIGKILL)
        await p.exited()
        return finished
    }

    /// The ids of every change the server's store holds.
    func serverChangeIDs(_ data: String) throws -> Set<String> {
        let store = try RecordStore.open(directory: data)
        return Set(try store.changes(after: 0).map(\.change.id.description))
    }

    /// The laptop's own changes the server acknowledged (up to its checkpoint).
    func acknowledged(_ node: String) throws -> [String] {
        let store = try RecordStore.open(directory: node)
        let upTo = try store.checkpoint(peer: "server")
        return try store.ownChanges(after: 0, limit: .max).filter { $0.sequence <= upTo }.map(\.change.id.description)
    }

    /// How many of the server's changes up to the laptop's stored cursor,
    /// written by other nodes to records the laptop holds, the laptop has
    /// not applied (a write counts as applied once the laptop's state of the
    /// record has seen its node's counter).
    func unappliedBeforeCursor(_ node: String, data: String) throws -> (missing: Int, examined: Int) {
        let laptop = try RecordStore.open(directory: node)
        guard let cursor = try laptop.meta("sync.cursor"), let upTo = Int64(cursor.split(separator: ".")[2]) else { return (0, 0) }
        let me = laptop.identity.node
        var missing = 0
        var examined = 0
        for (sequence, change) in try RecordStore.open(directory: data).changes(after: 0) where sequence <= upTo {
            guard change.id.origin != me, change.collection == "seeker",
                [Operation.set, .remove, .increment, .append].contains(change.operation),
                let state = try laptop.state(change.collection, change.record)
            else { continue }
            examined += 1
            if state.writers[change.id.origin, default: 0] < change.id.counter { missing += 1 }
        }
        return (missing, examined)
    }

    func enrolledLaptop(_ dir: TemporaryDirectory, _ name: String, data: String, url: String) async throws -> String {
        let node = dir.appending(name)
        let code = try await navette("admin", "enrol", "--data", data, "--agency", "069-lyon-3", "--counsellor", "c1").lastLine
        let made = try await navette("node", "init", "--dir", node, "--name", name, "--server", url, "--code", code)
        #expect(made.status == 0, "\(made.stderr)")
        return node
    }

    @Test func aLaptopKilledMidSyncLosesNothingAcknowledgedAndConverges() async throws {
        let seed = testSeed(0x5C4A_0001)
        var rng = SplitMix64(seed: seed)
        // One round in four runs the victim's sync to its end, the others kill it.
        let kills = environmentInt("NAVETTE_SYNC_KILLS", default: Self.full ? 134 : 16)
        print("sync crash: \(kills) rounds of laptop syncs (three in four killed) from seed \(seed)")
        let dir = try TemporaryDirectory(prefix: "navette-sync-crash")
        defer { dir.remove() }
        let data = dir.appending("server")
        let (server, url) = try await ServerCommandTests.startServer(data: data, output: dir.appending("serve.log"))
        defer { server.terminate() }
        let writer = try await enrolledLaptop(dir, "writer", data: data, url: url)
        let victim = try await enrolledLaptop(dir, "victim", data: data, url: url)
        var finished = 0
        var examined = 0
        for round in 0..<kills {
            // Both laptops write; the writer syncs, so that the victim has pages to pull.
            for node in [writer, victim] {
                let wrote = try await navette(
                    "_write-loop", "--dir", node, "--count", "\(rng.int(in: 50...300))", "--agency", "069-lyon-3", "--referent", "c1")
                #expect(wrote.status == 0)
            }
            let started = ContinuousClock.now
            #expect(try await navette("sync", "--dir", writer, "--quiet").status == 0)
            // Kill points spread over what a whole sync takes on this machine now
            // (a loaded CI machine takes several times longer than a quiet one).
            let micros = max(20_000, microseconds(since: started))
            if round % 4 == 3 {
                // Now and then the victim's sync runs to its end: a laptop that is
                // always killed mid-push would never reach its pulls.
                #expect(try await navette("sync", "--dir", victim, "--quiet").status == 0)
                finished += 1
            } else if try await syncAndKill(victim, afterMicroseconds: UInt32(rng.int(in: micros / 20...micros * 6 / 5))) {
                finished += 1
            }
            let store = try RecordStore.open(directory: victim)
            #expect(try store.integrityCheck() == "ok", "round \(round); NAVETTE_SEED=\(seed)")
            let onServer = try serverChangeIDs(data)
            let lost = try acknowledged(victim).filter { !onServer.contains($0) }
            #expect(lost.isEmpty, "round \(round): \(lost.count) acknowledged changes are not on the server; NAVETTE_SEED=\(seed)")
            // And what the server sent before the laptop's stored cursor is in the laptop.
            let (missing, seen) = try unappliedBeforeCursor(victim, data: data)
            examined += seen
            #expect(missing == 0, "round \(round): \(missing) changes before the laptop's cursor are not in it; NAVETTE_SEED=\(seed)")
        }
        print("sync crash: \(kills - finished) of \(kills) syncs killed before they finished; \(examined) pulled changes checked")
        #expect(examined > 0, "no pulled change was checked against the laptop's cursor")
        #expect(finished < kills, "no sync was killed mid-way: the delays are too long")
        // The next syncs go through, and both laptops equal the server's view.
        for node in [victim, writer, victim] { #expect(try await navette("sync", "--dir", node, "--quiet").status == 0) }
        var exports: [String] = []
        for node in [victim, writer] { exports.append(try await navette("export", "--dir", node).stdout) }
        #expect(exports[0] == exports[1], "the laptops diverged; NAVETTE_SEED=\(seed)")
        let pending = try RecordStore.open(directory: victim).status().pending
        #expect(pending == 0)
    }

    @Test func theServerKilledWhileApplyingPushesLosesNothingItAcknowledged() async throws {
        let seed = testSeed(0x5C4A_0002)
        var rng = SplitMix64(seed: seed)
        let kills = environmentInt("NAVETTE_SERVER_KILLS", default: Self.full ? 30 : 8)
        print("sync crash: \(kills) server kills from seed \(seed)")
        let dir = try TemporaryDirectory(prefix: "navette-server-crash")
        defer { dir.remove() }
        let data = dir.appending("server")
        var (server, url) = try await ServerCommandTests.startServer(data: data, output: dir.appending("serve.log"))
        let port = url.split(separator: ":").last.map(String.init)!
        defer { if server.isRunning { server.terminate() } }
        let node = try await enrolledLaptop(dir, "pusher", data: data, url: url)
        // Many changes to push, in many batches; pushing the first thousand
        // whole tells how long a push takes on this machine now (a loaded CI
        // machine running the debug build takes several times longer than a
        // quiet one), and the kills are spread over that.
        #expect(try await navette("_write-loop", "--dir", node, "--count", "1000", "--agency", "069-lyon-3", "--referent", "c1").status == 0)
        let started = ContinuousClock.now
        #expect(try await navette("sync", "--dir", node, "--quiet").status == 0)
        let micros = max(400_000, microseconds(since: started))
        print("sync crash: pushing 1,000 changes took \(micros / 1_000) ms; kills from \(micros / 8_000) to \(micros / 1_000) ms into a sync")
        var acknowledgedByRound: [Int] = [try acknowledged(node).count]
        for round in 0..<kills {
            // More to push each round, so that every kill may land mid-push.
            #expect(try await navette("_write-loop", "--dir", node, "--count", "\(rng.int(in: 200...600))", "--agency", "069-lyon-3", "--referent", "c1").status == 0)
            let sync = try ChildProcess.start(NavetteProcess.executable, ["sync", "--dir", node, "--quiet"])
            await pause(microseconds: rng.int(in: micros / 8...micros))
            kill(server.processIdentifier, SIGKILL)
            await server.exited()
            // The laptop would wait out its backoff: it is stopped too (and starts over next round).
            kill(sync.processIdentifier, SIGKILL)
            await sync.exited()
            let store = try RecordStore.open(directory: data)
            #expect(try store.integrityCheck() == "ok", "round \(round); NAVETTE_SEED=\(seed)")
            let onServer = try serverChangeIDs(data)
            let lost = try acknowledged(node).filter { !onServer.contains($0) }
            #expect(lost.isEmpty, "round \(round): \(lost.count) acknowledged changes were lost by the server; NAVETTE_SEED=\(seed)")
            acknowledgedByRound.append(try acknowledged(node).count)
            (server, _) = try await ServerCommandTests.startServer(data: data, output: dir.appending("serve-\(round).log"), port: port)
        }
        print("sync crash: changes acknowledged after each server kill: \(acknowledgedByRound)")
        #expect(Set(acknowledgedByRound).count > 1, "no push made progress between the kills")
        #expect(try await navette("sync", "--dir", node, "--quiet").status == 0)
        let status = try RecordStore.open(directory: node).status()
        #expect(status.pending == 0, "changes still wait after the server came back")
        let mine = try RecordStore.open(directory: node).ownChanges(after: 0, limit: .max).map(\.change.id.description)
        #expect(Set(mine).isSubset(of: try serverChangeIDs(data)), "NAVETTE_SEED=\(seed)")
        print("sync crash: \(mine.count) changes pushed through \(kills) server kills")
    }
}

/// The chaos tool's short form: real processes, kills, faulted links, and
/// every laptop equal to its view at the end.
struct ChaosTests {
    @Test func theQuickChaosRunEndsWithEveryLaptopEqualToItsView() async throws {
        let seed = testSeed(0xC4A0_5000)
        let chaos = URL(fileURLWithPath: NavetteProcess.executable).deletingLastPathComponent().appendingPathComponent("chaos").path
        let r = try await ProtocolToolTests.run(chaos, ["--quick", "--seed", "\(seed)"])
        #expect(r.status == 0, "\(r.stdout.suffix(2_000))\(r.stderr)")
        #expect(r.stdout.hasPrefix("chaos: seed \(seed)"))
        #expect(r.lastLine.hasPrefix("chaos: PASS seed=\(seed)"), "\(r.lastLine)")
        #expect(r.stdout.contains("killed"), "the run must have killed a process")
    }
}
