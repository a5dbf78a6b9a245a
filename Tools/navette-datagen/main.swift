// navette-datagen: writes a deterministic agency dataset as NDJSON changes.
import ArgumentParser
import Foundation
import NavetteCore
import NavetteTesting

struct DataGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "navette-datagen",
        abstract: "Write a deterministic agency dataset (DOMAIN.md sizes) as canonical JSON changes, one per line.",
        discussion: "The same seed and sizes give the same bytes. Load it with any store's apply, or pipe it to a file.")

    @Option(help: "The seed of the generator.") var seed: UInt64 = 1
    @Option(help: "Seekers in the agency (other sizes scale with it unless given).") var seekers = 7_000
    @Option(help: "Counsellors.") var counsellors: Int?
    @Option(help: "Workshop sessions.") var sessions: Int?
    @Option(help: "Registrations.") var registrations: Int?
    @Option(help: "Write to this file instead of standard output.") var out: String?

    func validate() throws {
        guard (1...200_000).contains(seekers) else {
            throw ValidationError("'--seekers' must be between 1 and 200000, not \(seekers).")
        }
        if let counsellors, counsellors < 1 { throw ValidationError("'--counsellors' must be at least 1.") }
    }

    func run() throws {
        var sizes = AgencyDataset.Sizes.scaled(seekers: seekers)
        if let counsellors { sizes.counsellors = counsellors }
        if let sessions { sizes.sessions = max(1, sessions) }
        if let registrations { sizes.registrations = max(0, registrations) }
        let changes = AgencyDataset.generate(seed: seed, sizes: sizes)
        var text = ""
        text.reserveCapacity(changes.count * 220)
        for c in changes {
            text += c.encoded
            text += "\n"
        }
        if let out {
            try Data(text.utf8).write(to: URL(fileURLWithPath: out))
            FileHandle.standardError.write(Data("wrote \(changes.count) changes (\(text.utf8.count) bytes) to \(out)\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

DataGen.main()
