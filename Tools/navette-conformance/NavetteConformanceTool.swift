import ArgumentParser
import Foundation
import Logging
import NavetteConformance
import NavetteServer
import NavetteStore

/// `navette-conformance`: drives a Navette server through the requirements
/// of `Protocol/spec/` and prints a verdict per requirement id.
@main
struct NavetteConformanceTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "navette-conformance",
        abstract: "Check a Navette server against the protocol's requirements, as a well-behaved and as a hostile client.",
        discussion: """
            Against a Navette server whose data directory you can open, give --data: the tool issues its own \
            enrolment codes for two agencies and carries out revocation, erasure and compaction. Against another \
            server, give --codes: a JSON file of codes an operator issued (see Protocol/README.md); the \
            requirements that need admin actions are then reported as not run.

            The last line is the verdict. The exit status is 0 when no requirement failed, 1 otherwise.
            """)

    @Option(help: "The server's base URL, e.g. http://127.0.0.1:8080.") var server: String
    @Option(help: "The Navette server's data directory (to issue codes and act as its admin).") var data: String?
    @Option(help: "A JSON file of enrolment codes for two agencies, for a server whose data you cannot open.")
    var codes: String?
    @Option(name: .customLong("schemas"), help: "The protocol's JSON Schemas (default: Protocol/schemas, found from here).")
    var schemaDirectory: String?
    @Flag(help: "Print every check as it runs.") var verbose = false

    func validate() throws {
        guard (data == nil) != (codes == nil) else {
            throw ValidationError("Give exactly one of --data DIR (a Navette server's data) and --codes FILE.")
        }
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw ValidationError("'--server' must be an http:// or https:// URL, not '\(server)'.")
        }
    }

    func run() async throws {
        let admin: any ConformanceAdmin
        if let data {
            guard FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent(ServerRegistry.fileName)) else {
                throw ValidationError("\(data) holds no Navette server; give the directory 'navette serve --data' uses.")
            }
            var logger = Logger(label: "navette.conformance")
            logger.logLevel = .warning
            admin = LocalServerAdmin(
                server: try await SyncServer.open(directory: data, configuration: ServerConfiguration(wallClock: RecordStore.systemMillis), logger: logger))
        } else {
            do {
                admin = try CodesFileAdmin(contentsOf: codes!)
            } catch let e as ConformanceError {
                throw ValidationError(e.description)
            }
        }
        let schemas = try Self.findSchemas(schemaDirectory).map { try ProtocolSchemas(directory: $0) }
        if schemas == nil { print("no JSON Schemas found (give --schemas DIR): ENC-009 will not run") }
        let verbose = self.verbose
        let run = ConformanceRun(server: server, admin: admin, schemas: schemas) { line in
            if verbose { print(line) }
        }
        let report = await run.run()
        print(report.text)
        if !report.failed.isEmpty { throw ExitCode(1) }
    }

    /// The schema directory: the one given, else `Protocol/schemas` from the
    /// current directory or above the executable (a `.build` tree).
    static func findSchemas(_ given: String?) throws -> String? {
        if let given {
            guard FileManager.default.fileExists(atPath: given) else { throw ValidationError("no directory \(given)") }
            return given
        }
        var candidates = [FileManager.default.currentDirectoryPath]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.path)
            dir.deleteLastPathComponent()
        }
        return candidates.map { ($0 as NSString).appendingPathComponent("Protocol/schemas") }
            .first { FileManager.default.fileExists(atPath: $0) }
    }
}
