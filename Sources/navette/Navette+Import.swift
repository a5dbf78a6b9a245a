import ArgumentParser
import Foundation
import NavetteCore
import NavetteStore

extension Navette {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply changes from an NDJSON file, as navette-datagen or another node writes them.",
            discussion: """
                Every line is one change in canonical JSON. The whole file is checked before anything is
                applied: a malformed line refuses the import and changes nothing. Changes already held are
                ignored, so importing twice is harmless.
                """)
        @OptionGroup var node: NodeOptions
        @Argument(help: "The file to read ('-' for standard input).") var file: String
        @Option(help: "Changes per transaction.") var batch = 1_000

        func validate() throws {
            guard (1...100_000).contains(batch) else {
                throw ValidationError("'--batch' must be between 1 and 100000, not \(batch).")
            }
        }

        func run() throws {
            let store = try node.open()
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let d = FileManager.default.contents(atPath: file) else {
                    throw CLIError("cannot read \(file); check the path")
                }
                data = d
            }
            var changes: [Change] = []
            var lineNumber = 0
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                lineNumber += 1
                if line.isEmpty { continue }
                do {
                    changes.append(try Change(encoded: line))
                } catch {
                    throw CLIError("line \(lineNumber) is not a change: \(error); nothing was imported")
                }
            }
            let start = Date()
            var total = ApplySummary()
            var done = 0
            while done < changes.count {
                let slice = Array(changes[done..<min(done + batch, changes.count)])
                let s = try store.apply(slice)
                total.applied += s.applied
                total.duplicates += s.duplicates
                total.dropped += s.dropped
                total.fromTheFuture += s.fromTheFuture
                done += slice.count
            }
            let seconds = Date().timeIntervalSince(start)
            print(
                "imported \(changes.count) changes in \(String(format: "%.1f", seconds)) s: \(total.applied) applied, "
                    + "\(total.duplicates) already held, \(total.dropped) dropped (erased records)")
            if total.fromTheFuture > 0 {
                print("warning: \(total.fromTheFuture) changes were stamped more than a minute ahead of this laptop's clock")
            }
        }
    }
}
