import ArgumentParser
import Foundation
import NavetteCore
import NavetteStore

extension Navette {
    /// A writer for the crash test: edits in a loop and reports each commit
    /// on standard output, flushed, only after the store has returned.
    struct WriteLoop: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "_write-loop", abstract: "Test helper: write until killed, reporting each commit.",
            shouldDisplay: false)
        @OptionGroup var node: NodeOptions
        @Option(help: "How many edits to make at most.") var count = 100_000
        @Option(help: "The agency of the seekers it creates.") var agency: String?
        @Option(help: "The referent of the seekers it creates.") var referent: String?

        /// Writes a line straight to the file descriptor: nothing is left in
        /// a buffer when the process is killed.
        func report(_ line: String) {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }

        func run() throws {
            let store = try node.open()
            var seeker: String? = nil
            for i in 1...count {
                if i % 10 == 1 {
                    var edits: [Edit] = [.set("identity.lastName", .string("W\(i)"))]
                    if let agency { edits.append(.set("agency", .string(agency))) }
                    if let referent { edits.append(.set("referent", .string(referent))) }
                    seeker = try store.createRecord("seeker", edits)
                    report("committed create \(seeker!) W\(i)")
                } else {
                    try store.edit("seeker", seeker!, [.set("contact.phone", .string("p\(i)")), .increment("unansweredContactAttempts", by: 1)])
                    report("committed edit \(seeker!) p\(i)")
                }
            }
        }
    }
}
