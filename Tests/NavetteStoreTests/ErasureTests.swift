import Foundation
import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// After erasure no file of the node — the store, its WAL, anything else —
/// holds the erased values.
struct ErasureTests {
    // Values that occur nowhere else, so a byte search cannot be fooled.
    let lastName = "Qzxwvjk"
    let email = "canary.mail.7731@example.org"
    let health = "canaryhealthremark"
    let comment = "canaryregistrationcomment"
    let note = "canarynotetext"

    @Test func erasingASeekerLeavesNoTraceInAnyFileOfTheNode() throws {
        let s = try DiskStore(1)
        defer { s.done() }
        let peer = try RecordStore.inMemory(identity: identity(2))
        let store = s.store
        let id = try store.createRecord(
            "seeker",
            [
                .set("identity.lastName", .string(lastName)), .set("contact.email", .string(email)),
                .set("sensitive.healthConstraints", .string(health)), .set("notes", .string(note)),
            ])
        // Several versions of the values, in the log and the WAL.
        for i in 0..<5 {
            try store.edit("seeker", id, [.set("notes", .string("\(note) v\(i)")), .set("contact.email", .string("\(i)\(email)"))])
        }
        let session = try store.createRecord("workshopSession", [.set("capacity", 10)])
        let registration = RecordKeys.registration(session: session, seeker: id)
        try store.edit("registration", registration, [
            .set("session", .string(session)), .set("seeker", .string(id)), .set("comment", .string(comment)),
        ])
        // A peer holds a stale change with the values too.
        try peer.pull(from: store)
        let stale = try peer.edit("seeker", id, [.set("sensitive.healthConstraints", .string(health + " stale"))])
        for needle in [lastName, email, health, comment, note] {
            #expect(!(try filesContaining(needle, under: s.dir.path)).isEmpty, "the test must see \(needle) before erasure")
        }

        let erased = try store.eraseSeeker(id)
        #expect(erased == [RecordRef("seeker", id), RecordRef("registration", registration)])

        for needle in [lastName, email, health, comment, note] {
            #expect(try filesContaining(needle, under: s.dir.path) == [], "\(needle) is still on disk")
        }
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.list("seeker").isEmpty)
        #expect(try store.state("seeker", id)?.isErased == true)
        // The log keeps ids and times, not values.
        let log = try store.changes(after: 0).map(\.change).filter { $0.record == id }
        #expect(log.count == 15)
        #expect(log.allSatisfy { $0.value == nil })

        // A change for the erased seeker arriving later is acknowledged and dropped.
        let late = try store.apply(stale)
        #expect(late.dropped == 1 && late.applied == 0)
        try store.truncateWAL()
        #expect(try filesContaining(health, under: s.dir.path) == [])
        #expect(try store.changes(after: 0).contains { $0.change.id == stale[0].id } == false)
    }

    @Test func erasingOneFieldPurgesItsValuesFromTheFilesAndKeepsTheRest() throws {
        let s = try DiskStore(1)
        defer { s.done() }
        let id = try s.store.createRecord(
            "seeker", [.set("identity.lastName", .string(lastName)), .set("sensitive.healthConstraints", .string(health))])
        try s.store.edit("seeker", id, [.set("sensitive.healthConstraints", .string(health + "2"))])
        try s.store.edit("seeker", id, [.eraseField("sensitive.healthConstraints")])
        #expect(try filesContaining(health, under: s.dir.path) == [])
        #expect(!(try filesContaining(lastName, under: s.dir.path)).isEmpty, "the rest of the file stays")
        #expect(try s.store.integrityCheck() == "ok")
    }
}
