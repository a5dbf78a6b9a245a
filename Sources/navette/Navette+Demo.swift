import ArgumentParser
import Foundation
import NavetteCore
import NavetteStore

extension Navette {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Watch two counsellors' laptops edit the same file offline, merge, and converge.",
            discussion: """
                Runs on this machine alone: two real node stores (SQLite files) in a scratch directory, removed
                at the end unless --keep is given. The laptops exchange changes directly here; 'navette sync'
                with a server comes with the sync release.
                """)

        @Option(help: "Keep the two nodes in this directory, to explore them with the other commands.")
        var keep: String?

        func run() throws {
            let base: String
            if let keep {
                base = keep
            } else {
                base = (NSTemporaryDirectory() as NSString).appendingPathComponent("navette-demo-\(UInt32.random(in: 0...UInt32.max))")
            }
            defer { if keep == nil { try? FileManager.default.removeItem(atPath: base) } }
            let story = try DemoStory(base: base)
            try story.run()
            if let keep {
                print("\nThe two nodes are in \(keep)/camille and \(keep)/karim; try:")
                print("  navette status --dir \(keep)/karim")
                print("  navette log --dir \(keep)/karim")
            }
        }
    }
}

/// The demo's story, printed step by step.
struct DemoStory {
    let camille: RecordStore
    let karim: RecordStore

    init(base: String) throws {
        var rng = SystemRandomNumberGenerator()
        do {
            camille = try RecordStore.create(
                directory: (base as NSString).appendingPathComponent("camille"),
                identity: NodeIdentity(node: .random(using: &rng), name: "Camille's laptop", agency: "069-lyon-3", counsellor: "c1"))
            karim = try RecordStore.create(
                directory: (base as NSString).appendingPathComponent("karim"),
                identity: NodeIdentity(node: .random(using: &rng), name: "Karim's laptop", agency: "069-lyon-3", counsellor: "c2"))
        } catch let e as StoreError {
            throw CLIError(e.message)
        }
    }

    func step(_ title: String) { print("\n== \(title)") }

    func run() throws {
        let seekers = Schema.navette.collection("seeker")!
        step("1. Camille (referent) opens a file for Inès Moreau on her laptop")
        let id = try camille.createRecord(
            "seeker",
            [
                .set("identity.firstName", "Inès"), .set("identity.lastName", "Moreau"),
                .set("agency", "069-lyon-3"), .set("referent", "c1"), .set("situation.status", "active"),
                .set("contact.phone", "06 11 22 33 44"),
                .put("skills", key: "ROME:347:100381", ["level": 2, "source": "SELF"]),
                .put("consents", key: "smsReminders", true),
            ])
        print("seeker \(id), 8 fields; Camille's laptop holds \(try camille.status().changes) changes")

        step("2. Morning: Karim (workshop facilitator) takes a copy of the file")
        let s1 = try karim.pull(from: camille)
        print("Karim's laptop applied \(s1.applied) changes")

        step("3. The link is down all day; both edit the same file offline")
        try camille.edit("seeker", id, [.set("contact.phone", "06 99 88 77 66")])
        print("Camille: new phone number")
        try camille.edit("seeker", id, [.removeEntry("skills", key: "ROME:347:100381")])
        print("Camille: removes the skill ROME:347:100381 (she thinks it is a duplicate)")
        try camille.edit("seeker", id, [.put("consents", key: "smsReminders", true)])
        print("Camille: confirms consent to SMS reminders")
        try karim.edit("seeker", id, [.set("contact.phone", "07 55 44 33 22")])
        print("Karim:   another new phone number, given at the workshop")
        try karim.edit("seeker", id, [.put("skills", key: "ROME:347:100381", ["level": 3, "source": "WORKSHOP"])])
        print("Karim:   raises that skill to level 3, observed in the workshop")
        try karim.edit("seeker", id, [.put("consents", key: "smsReminders", false)])
        print("Karim:   Inès withdraws her consent to SMS reminders")
        try karim.edit("seeker", id, [.append("interactions", ["at": "2026-03-02T10:00+01:00", "type": "visit", "by": "c2"])])
        print("Karim:   logs her visit")

        step("4. The link is back: the laptops exchange what they did")
        let a = try camille.pull(from: karim)
        let b = try karim.pull(from: camille)
        print("Camille applied \(a.applied) changes from Karim; Karim applied \(b.applied) from Camille")

        step("5. What both laptops now show")
        let state = try karim.state("seeker", id)!
        print(Output.record(seekers, id, state))
        print("""

            - phone: two concurrent edits; the later one is shown and the other is kept as a conflict, not lost
            - skill ROME:347:100381: Karim's level edit wins over Camille's concurrent removal (add wins)
            - consent smsReminders: the withdrawal wins over the concurrent confirmation
            - contact log: every entry from every laptop is kept
            """)

        step("6. The conflict, as 'navette conflicts' shows it")
        for c in try karim.conflicts() {
            print("\(c.record) \(c.field)")
            for v in [c.current] + c.others { print("  \(v.id)  \(Output.text(v.value))") }
        }
        let exportA = try camille.exportCanonical()
        let exportB = try karim.exportCanonical()
        print("canonical exports: \(exportA.utf8.count) and \(exportB.utf8.count) bytes, \(exportA == exportB ? "identical" : "DIFFERENT")")

        step("7. Karim calls Inès, keeps Camille's number and resolves the conflict")
        let conflict = try karim.conflicts().first!
        let camillesValue = ([conflict.current] + conflict.others).first { $0.id.origin == camille.identity.node }!
        try karim.edit("seeker", id, [.set("contact.phone", camillesValue.value)])
        try camille.pull(from: karim)
        try karim.pull(from: camille)
        let after = try camille.state("seeker", id)!
        let phone = after.view(of: seekers.field("contact.phone")!)
        if case .register(let c?, let others) = phone {
            print("contact.phone = \(Output.text(c.value)), \(others.count) conflicts left")
        }
        let finalA = try camille.exportCanonical()
        let finalB = try karim.exportCanonical()
        print("conflicts: Camille \(try camille.status().conflicts), Karim \(try karim.status().conflicts)")
        print("canonical exports \(finalA == finalB ? "identical" : "DIFFERENT") (\(finalA.utf8.count) bytes): the laptops have converged")
        if finalA != finalB { throw CLIError("the demo's laptops did not converge: this is a bug, please report it") }
    }
}
