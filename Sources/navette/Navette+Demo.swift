import ArgumentParser
import Crypto
import Foundation
import Logging
import NavetteClient
import NavetteCore
import NavetteServer
import NavetteStore

extension Navette {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Watch two counsellors' laptops edit the same file offline, sync through a server, and converge.",
            discussion: """
                Runs on this machine alone: an embedded sync server on 127.0.0.1 and two real node stores
                (SQLite files) in a scratch directory, removed at the end unless --keep is given.
                """)

        @Option(help: "Keep the server and the two nodes in this directory, to explore them with the other commands.")
        var keep: String?

        func run() async throws {
            let base = keep ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("navette-demo-\(UInt32.random(in: 0...UInt32.max))")
            defer { if keep == nil { try? FileManager.default.removeItem(atPath: base) } }
            func path(_ name: String) -> String { (base as NSString).appendingPathComponent(name) }
            let logger = {
                var l = Logger(label: "navette.demo")
                l.logLevel = .critical
                return l
            }()
            let server = try await refusing {
                try await SyncServer.open(
                    directory: path("server"),
                    configuration: ServerConfiguration(host: "127.0.0.1", port: 0, wallClock: RecordStore.systemMillis),
                    logger: logger)
            }
            let (urls, continuation) = AsyncStream<String>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await HTTPServer.run(server: server, tls: nil, logger: logger) { continuation.yield($0) }
                }
                var iterator = urls.makeAsyncIterator()
                guard let url = await iterator.next() else { throw CLIError("the demo's server did not start") }
                do {
                    let story = try DemoStory(base: base, server: server, url: url, logger: logger)
                    try await story.run()
                    group.cancelAll()
                } catch {
                    group.cancelAll()
                    throw error
                }
            }
            if let keep {
                print("\nThe server's data is in \(keep)/server and the laptops in \(keep)/camille, karim and sophie; try:")
                print("  navette status --dir \(keep)/karim")
                print("  navette admin nodes --data \(keep)/server")
            }
        }
    }
}

/// The demo's story, printed step by step.
struct DemoStory {
    let server: SyncServer
    let url: String
    let camille: (store: RecordStore, engine: SyncEngine)
    let karim: (store: RecordStore, engine: SyncEngine)
    let sophie: (store: RecordStore, engine: SyncEngine)

    init(base: String, server: SyncServer, url: String, logger: Logger) throws {
        self.server = server
        self.url = url
        var rng = SystemRandomNumberGenerator()
        func laptop(_ name: String, _ label: String) throws -> (RecordStore, SyncEngine) {
            let dir = (base as NSString).appendingPathComponent(name)
            let store = try RecordStore.create(
                directory: dir, identity: NodeIdentity(node: .random(using: &rng), name: label, agency: "069-lyon-3"))
            let key = try NodeKey.create(directory: dir)
            return (store, SyncEngine(store: store, key: key, transport: HTTPTransport(), logger: logger))
        }
        do {
            camille = try laptop("camille", "Camille's laptop")
            karim = try laptop("karim", "Karim's laptop")
            sophie = try laptop("sophie", "Sophie's laptop")
        } catch let e as StoreError {
            throw CLIError(e.message)
        }
    }

    func step(_ title: String) { print("\n== \(title)") }

    func sync(_ who: String, _ laptop: (store: RecordStore, engine: SyncEngine)) async throws {
        let r = try await refusing { try await laptop.engine.sync() }
        print("\(who) syncs: sent \(r.pushed), received \(r.pulled) (\(r.roundTrips) signed round trip\(r.roundTrips == 1 ? "" : "s"), \(r.bytesSent + r.bytesReceived) bytes)")
    }

    func run() async throws {
        let seekers = Schema.navette.collection("seeker")!
        step("0. An administrator runs the server (\(url)) and enrols three laptops in two agencies")
        for (who, laptop, agency, counsellor) in [
            ("Camille", camille, "069-lyon-3", "c1"), ("Karim", karim, "069-lyon-3", "c2"), ("Sophie", sophie, "075-paris-1", "c3"),
        ] {
            let code = try await server.issueEnrolmentCode(agency: agency, counsellor: counsellor, name: nil, validFor: 900_000, actor: "admin")
            try await refusing { _ = try await laptop.engine.enrol(server: url, code: code) }
            print("\(who)'s laptop enrolled with code \(code): node \(laptop.store.identity.node), agency \(agency), counsellor \(counsellor)")
        }
        let paris = try sophie.store.createRecord(
            "seeker", [.set("identity.firstName", "Hugo"), .set("identity.lastName", "Lambert"), .set("agency", "075-paris-1"), .set("referent", "c3")])
        print("Sophie, in Paris, opens a file for Hugo Lambert (\(paris)) and syncs")
        try await sync("Sophie", sophie)

        step("1. Camille (referent) opens a file for Inès Moreau, and syncs")
        let id = try camille.store.createRecord(
            "seeker",
            [
                .set("identity.firstName", "Inès"), .set("identity.lastName", "Moreau"),
                .set("agency", "069-lyon-3"), .set("referent", "c1"), .set("situation.status", "active"),
                .set("contact.phone", "06 11 22 33 44"),
                .put("skills", key: "ROME:347:100381", ["level": 2, "source": "SELF"]),
                .put("consents", key: "smsReminders", true), .add("followers", element: "c2"),
            ])
        print("seeker \(id), 9 fields; Karim (c2), who runs her workshop, follows the file too")
        try await sync("Camille", camille)

        step("2. Morning: Karim (workshop facilitator) syncs and gets the file")
        try await sync("Karim", karim)

        step("3. The link is down all day; both edit the same file offline")
        try camille.store.edit("seeker", id, [.set("contact.phone", "06 99 88 77 66")])
        print("Camille: new phone number")
        try camille.store.edit("seeker", id, [.removeEntry("skills", key: "ROME:347:100381")])
        print("Camille: removes the skill ROME:347:100381 (she thinks it is a duplicate)")
        try camille.store.edit("seeker", id, [.put("consents", key: "smsReminders", true)])
        print("Camille: confirms consent to SMS reminders")
        try karim.store.edit("seeker", id, [.set("contact.phone", "07 55 44 33 22")])
        print("Karim:   another new phone number, given at the workshop")
        try karim.store.edit("seeker", id, [.put("skills", key: "ROME:347:100381", ["level": 3, "source": "WORKSHOP"])])
        print("Karim:   raises that skill to level 3, observed in the workshop")
        try karim.store.edit("seeker", id, [.put("consents", key: "smsReminders", false)])
        print("Karim:   Inès withdraws her consent to SMS reminders")
        try karim.store.edit("seeker", id, [.append("interactions", ["at": "2026-03-02T10:00+01:00", "type": "visit", "by": "c2"])])
        print("Karim:   logs her visit")

        step("4. The link is back: both laptops sync through the server")
        try await sync("Camille", camille)
        try await sync("Karim", karim)
        try await sync("Camille", camille)

        step("5. What both laptops now show")
        print(Output.record(seekers, id, try karim.store.state("seeker", id)!))
        print("""

            - phone: two concurrent edits; the later one is shown and the other is kept as a conflict, not lost
            - skill ROME:347:100381: Karim's level edit wins over Camille's concurrent removal (add wins)
            - consent smsReminders: the withdrawal wins over the concurrent confirmation
            - contact log: every entry from every laptop is kept
            """)

        step("6. The conflict, as 'navette conflicts' shows it")
        for c in try karim.store.conflicts() {
            print("\(c.record) \(c.field)")
            for v in [c.current] + c.others { print("  \(v.id)  \(Output.text(v.value))") }
        }

        step("7. Karim calls Inès, keeps Camille's number and resolves the conflict; both sync")
        let conflict = try karim.store.conflicts().first!
        let camillesValue = ([conflict.current] + conflict.others).first { $0.id.origin == camille.store.identity.node }!
        try karim.store.edit("seeker", id, [.set("contact.phone", camillesValue.value)])
        try await sync("Karim", karim)
        try await sync("Camille", camille)
        if case .register(let c?, let others) = try camille.store.state("seeker", id)!.view(of: seekers.field("contact.phone")!) {
            print("contact.phone = \(Output.text(c.value)), \(others.count) conflicts left")
        }
        try await sync("Sophie", sophie)

        step("8. Every laptop's canonical export, and the server's view for each counsellor (SHA-256, computed now)")
        func digest(_ text: String) -> String {
            SHA256.hash(data: Array(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        }
        let lyon = [try camille.store.exportCanonical(), try karim.store.exportCanonical()]
        let lyonView = try await server.records.exportCanonical(of: try await server.records.view(ViewSpec(agency: "069-lyon-3", counsellor: "c1", agencyWide: false)))
        let parisExport = try sophie.store.exportCanonical()
        let parisView = try await server.records.exportCanonical(of: try await server.records.view(ViewSpec(agency: "075-paris-1", counsellor: "c3", agencyWide: false)))
        print("Camille (Lyon)       \(digest(lyon[0]))")
        print("Karim (Lyon)         \(digest(lyon[1]))")
        print("server, c1's view    \(digest(lyonView))")
        print("Sophie (Paris)       \(digest(parisExport))")
        print("server, c3's view    \(digest(parisView))")
        let converged = Set(lyon + [lyonView]).count == 1 && parisExport == parisView
        let separated = try camille.store.state("seeker", paris) == nil && karim.store.state("seeker", paris) == nil
            && sophie.store.state("seeker", id) == nil
        print(converged ? "the Lyon laptops and the server have converged; Paris matches the server's view for Sophie" : "the laptops did not converge")
        print(separated ? "no Lyon laptop holds Hugo's file, and Sophie holds none of Lyon's" : "a laptop holds another agency's file")
        if !converged || !separated { throw CLIError("the demo's laptops did not converge: this is a bug, please report it") }
    }
}
