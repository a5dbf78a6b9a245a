import Foundation
import ArgumentParser
import NavetteCore
import NavetteStore

extension Navette {
    struct Node: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create and describe this laptop's node.", subcommands: [Init.self])
    }
}

extension Navette.Node {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a standalone node: its store and its id, minted here.",
            discussion: "Prints the new node id on its last line.")

        @OptionGroup var node: NodeOptions

        @Option(help: "A name for people, such as 'Reception desk laptop'.")
        var name: String

        @Option(help: "The agency code the node works for, such as 069-lyon-3.")
        var agency: String

        @Option(help: "The id of the counsellor who uses the node.")
        var counsellor: String?

        func validate() throws {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 100 else {
                throw ArgumentParser.ValidationError("'--name' must have 1 to 100 characters.")
            }
            guard RecordKeys.isValidID(agency) else {
                throw ArgumentParser.ValidationError("'--agency' must be an agency code (letters, digits, '-', '_'), not '\(agency)'.")
            }
            if let counsellor, !RecordKeys.isValidID(counsellor) {
                throw ArgumentParser.ValidationError("'--counsellor' must be a counsellor id (letters, digits, '-', '_').")
            }
        }

        func run() throws {
            var rng = SystemRandomNumberGenerator()
            let identity = NodeIdentity(
                node: NodeID.random(using: &rng), name: name, agency: agency, counsellor: counsellor)
            let store = try refusing { try RecordStore.create(directory: node.directory, identity: identity) }
            print("Created node '\(name)' for agency \(agency) in \(node.directory)")
            print(store.identity.node)
        }
    }
}
