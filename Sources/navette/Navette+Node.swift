import Foundation
import ArgumentParser
import NavetteClient
import NavetteCore
import NavetteStore
import NavetteWire

extension Navette {
    struct Node: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create this laptop's node, and enrol it with a server.", subcommands: [Init.self, Enrol.self])
    }
}

extension Navette.Node {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create this laptop's node: its store, its id and its key, minted here.",
            discussion: """
                With --server and --code it enrols at once, taking its agency and counsellor from the code;
                otherwise give --agency for a standalone node. Prints the new node id on its last line.
                """)

        @OptionGroup var node: NodeOptions

        @Option(help: "A name for people, such as 'Reception desk laptop'.")
        var name: String

        @Option(help: "The agency code the node works for, such as 069-lyon-3 (standalone nodes).")
        var agency: String?

        @Option(help: "The id of the counsellor who uses the node.")
        var counsellor: String?

        @Option(help: "The sync server's URL, to enrol at once.") var server: String?
        @Option(help: "The one-time enrolment code an administrator gave you.") var code: String?
        @Option(name: .customLong("ca-file"), help: "PEM certificates to trust for the server.") var caFile: String?

        func validate() throws {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 100 else {
                throw ArgumentParser.ValidationError("'--name' must have 1 to 100 characters.")
            }
            guard (server == nil) == (code == nil) else {
                throw ArgumentParser.ValidationError("give both '--server' and '--code' to enrol, or neither.")
            }
            guard server != nil || agency != nil else {
                throw ArgumentParser.ValidationError("give '--agency' for a standalone node, or '--server' and '--code' to enrol.")
            }
            if let agency, !RecordKeys.isValidID(agency) {
                throw ArgumentParser.ValidationError("'--agency' must be an agency code (letters, digits, '-', '_'), not '\(agency)'.")
            }
            if let counsellor, !RecordKeys.isValidID(counsellor) {
                throw ArgumentParser.ValidationError("'--counsellor' must be a counsellor id (letters, digits, '-', '_').")
            }
        }

        func run() async throws {
            if let server {
                // Check the URL before anything is created.
                _ = try refusing { try SyncEngine.checkServerURL(server) }
            }
            var rng = SystemRandomNumberGenerator()
            let identity = NodeIdentity(
                node: NodeID.random(using: &rng), name: name, agency: agency ?? "unenrolled", counsellor: counsellor)
            let store = try refusing { try RecordStore.create(directory: node.directory, identity: identity) }
            let key = try refusing { try NodeKey.create(directory: node.directory) }
            if let server, let code {
                let engine = SyncEngine(store: store, key: key, transport: HTTPTransport(trustedCertificates: caFile), logger: quietLogger())
                do {
                    let r = try await engine.enrol(server: server, code: code)
                    print("Created node '\(name)' in \(node.directory), enrolled with \(server) for agency \(r.agency)")
                } catch let e as SyncError {
                    throw CLIError("\(e.message); the node was created in \(node.directory): enrol it with 'navette node enrol'")
                }
            } else {
                print("Created node '\(name)' for agency \(agency!) in \(node.directory)")
            }
            print(store.identity.node)
        }
    }
}

extension Navette.Node {
    struct Enrol: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol this node with a sync server, with the one-time code an administrator gave you.",
            discussion: """
                The node registers its public key (its private key never leaves the laptop), pins the server's
                key, and takes the agency and counsellor the code was issued for.
                """)
        @OptionGroup var node: NodeOptions
        @Option(help: "The server's URL (https://…; http:// only to this machine).") var server: String
        @Option(help: "The enrolment code, such as K7QF-M2XD-9P3A.") var code: String
        @Option(name: .customLong("ca-file"), help: "PEM certificates to trust for the server, if it has a private CA.")
        var caFile: String?

        func run() async throws {
            let store = try node.open()
            let key = try refusing { try NodeKey.load(directory: node.directory) }
            let engine = SyncEngine(store: store, key: key, transport: HTTPTransport(trustedCertificates: caFile), logger: quietLogger())
            let response = try await refusing { try await engine.enrol(server: server, code: code) }
            print("Enrolled node \(response.node) with \(server) for agency \(response.agency)"
                + (response.counsellor.map { ", counsellor \($0)" } ?? ""))
            print("Server key pinned: \(response.serverKeys.map(\.keyID).joined(separator: ", "))")
        }
    }
}
