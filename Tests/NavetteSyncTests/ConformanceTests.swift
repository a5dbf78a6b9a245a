import Foundation
import Logging
import NavetteConformance
import NavetteServer
import NavetteStore
import NavetteTesting
import Testing

/// The protocol's schemas, read from the repository.
let protocolSchemas: ProtocolSchemas = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try! ProtocolSchemas(directory: root.appendingPathComponent("Protocol/schemas").path)
}()

/// Our server, run as it is deployed (stores on disk, the real clock),
/// through the conformance tool's checks.
@Suite(.serialized)
struct ConformanceTests {
    func run(on backend: Backend = .sqlite, faults: Set<PlantedFault> = []) async throws -> (ConformanceReport, CapturedLogs) {
        let dir = try TemporaryDirectory(prefix: "navette-conformance")
        defer { dir.remove() }
        let logs = CapturedLogs()
        var config = ServerConfiguration(host: "127.0.0.1", port: 0, wallClock: RecordStore.systemMillis)
        config.plantedFaults = faults
        func check(_ server: SyncServer) async throws -> ConformanceReport {
            let (urls, continuation) = AsyncStream<String>.makeStream()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await HTTPServer.run(server: server, tls: nil, logger: logs.logger("http")) { continuation.yield($0) } }
                var it = urls.makeAsyncIterator()
                let url = await it.next()!
                defer { group.cancelAll() }
                let run = ConformanceRun(server: url, admin: LocalServerAdmin(server: server), schemas: protocolSchemas)
                return await run.run()
            }
        }
        let report: ConformanceReport
        switch backend {
        case .sqlite:
            // As deployed: stores on disk, the real clock.
            report = try await check(try await SyncServer.open(directory: dir.appending("server"), configuration: config, logger: logs.logger("server")))
        case .postgres:
            report = try await withServerStorage(.postgres, wallClock: RecordStore.systemMillis, configuration: config, logs: logs) {
                try await check($0)
            }
        }
        return (report, logs)
    }

    @Test("our server meets every requirement the tool checks", arguments: Backend.available)
    func ourServerMeetsEveryRequirementTheToolChecks(_ backend: Backend) async throws {
        let (report, logs) = try await run(on: backend)
        #expect(report.failed.isEmpty, "\(report.text)")
        #expect(report.notRun.isEmpty, "\(report.text)")
        #expect(Set(report.passed) == Set(ConformanceRun.requirements.keys))
        // The tool writes personal-looking values; no server log line may carry them.
        for line in logs.all where line.contains("Zqxjconformance") || line.contains("Wvykcanary") {
            Issue.record("a server log line carries a value of a record: \(line.prefix(80))")
        }
    }

    @Test func aServerThatAcceptsReplaysFailsSIG007AndNothingElse() async throws {
        let (report, _) = try await run(faults: [.acceptReplayedNonces])
        #expect(report.failed == ["SIG-007"], "\(report.text)")
        if case .failed(let why) = report.verdict("SIG-007") {
            #expect(why.contains("replay"))
        }
    }
}
