import ArgumentParser
import Foundation
import Logging
import NavetteClient
import NavetteCore
import NavetteStore

/// A logger that prints only warnings and errors, to standard error.
func quietLogger() -> Logger {
    var logger = Logger(label: "navette")
    logger.logLevel = .warning
    return logger
}

extension Navette {
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send this node's changes to the server and receive the others'.",
            discussion: """
                Every batch the server acknowledges is kept: a sync cut by a bad link resumes where it stopped.
                Changes the server refuses are parked, shown by 'navette status', and never lost.
                """)
        @OptionGroup var node: NodeOptions
        @Option(name: .customLong("ca-file"), help: "PEM certificates to trust for the server.") var caFile: String?
        @Flag(help: "Print no progress, only the summary.") var quiet = false

        func run() async throws {
            let store = try node.open()
            let key = try refusing { try NodeKey.load(directory: node.directory) }
            let engine = SyncEngine(store: store, key: key, transport: HTTPTransport(trustedCertificates: caFile), logger: quietLogger())
            let quiet = self.quiet
            let report = try await refusing {
                try await engine.sync { p in
                    if !quiet, p.done > 0, p.done % 500 == 0 { printFlushed("  \(p.phase.rawValue): \(p.done) changes") }
                }
            }
            let seconds = Double(report.duration.components.attoseconds) / 1e18 + Double(report.duration.components.seconds)
            print(
                "Synced: sent \(report.pushed) changes, received \(report.pulled) (\(report.applied) new here), "
                    + "refused \(report.refused), conflicts \(report.conflicts); \(report.bytesSent) bytes up, "
                    + "\(report.bytesReceived) down, \(String(format: "%.1f", seconds)) s")
            if report.refused > 0 {
                print("warning: the server refused \(report.refused) changes; 'navette status' lists them and what to do")
            }
            let minutes = abs(report.clockOffset) / 60_000
            if minutes >= 5 {
                print("warning: this laptop's clock is \(minutes) minutes \(report.clockOffset > 0 ? "behind" : "ahead of") the server's; edits are stamped with the server's time")
            }
        }
    }
}
