import Foundation
import NavetteClient
import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// A fleet runs mixed versions for weeks: a laptop whose schema lacks two
/// fields syncs with an up-to-date one; neither refuses the other's changes.
@Suite(.serialized)
struct MixedVersionTests {
    static let older: Schema = {
        let missing: Set<String> = ["softSkills", "erasureRequested"]
        return Schema(
            version: 0,
            collections: Schema.navette.collections.map { c in
                c.name == "seeker"
                    ? CollectionSpec(name: c.name, keying: c.keying, summaryFields: c.summaryFields, fields: c.fields.filter { !missing.contains($0.name) })
                    : c
            })
    }()

    @Test func aLaptopOneSchemaVersionBehindKeepsAndRelaysNewerFields() async throws {
        try await withServer { s in
            let current = try Laptop(1, clock: s.clock, logs: s.logs)
            let dir = try TemporaryDirectory(prefix: "navette-old")
            defer { current.dir.remove(); dir.remove() }
            let oldStore = try RecordStore.create(
                directory: dir.appending("node"), identity: NodeIdentity(node: NodeID(rawValue: 0xC1), name: "old", agency: "x"),
                configuration: .init(schema: Self.older, wallClock: s.clock.read))
            let old = SyncEngine(store: oldStore, key: try NodeKey.create(directory: dir.appending("node")), logger: s.logs.logger("old"))
            try await current.engine.enrol(server: s.url, code: try s.code())
            try await old.enrol(server: s.url, code: try s.code())

            let id = try current.store.createRecord("seeker", [
                .set("identity.lastName", "Moreau"), .set("agency", "069-lyon-3"), .set("referent", "c1"),
                .put("softSkills", key: "teamwork", ["level": 3]), .set("erasureRequested", true),
            ])
            _ = try await current.engine.sync()
            let pulled = try await old.sync()
            #expect(pulled.snapshots == 1)
            // The old laptop cannot edit the fields it does not know…
            #expect(throws: ValidationError.self) { try oldStore.edit("seeker", id, [.set("erasureRequested", false)]) }
            // …but keeps them, shows them as a newer version's, and edits the rest.
            #expect(try oldStore.exportCanonical().contains("softSkills"))
            try oldStore.edit("seeker", id, [.set("contact.phone", "0611")])
            let pushed = try await old.sync()
            #expect(pushed.pushed == 1 && pushed.refused == 0)
            _ = try await current.engine.sync()
            #expect(try current.store.state("seeker", id) == oldStore.state("seeker", id), "both hold the same replicated state")
            let view = try current.store.state("seeker", id)!.view(of: Schema.navette.field("seeker", "softSkills")!)
            #expect(view != .map([:]))
        }
    }
}
