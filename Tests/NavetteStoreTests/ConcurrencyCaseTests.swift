import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// The concurrency cases of `DOMAIN.md`, one test each, on real stores.
struct ConcurrencyCaseTests {
    let clock = ManualClock(millis: 1_767_600_000_000)

    func laptops() throws -> (RecordStore, RecordStore) {
        let config = RecordStore.Configuration(wallClock: clock.read)
        return (
            try RecordStore.inMemory(identity: identity(1, counsellor: "c1"), configuration: config),
            try RecordStore.inMemory(identity: identity(2, counsellor: "c2"), configuration: config)
        )
    }

    func sync(_ a: RecordStore, _ b: RecordStore) throws {
        try a.pull(from: b)
        try b.pull(from: a)
        #expect(try a.exportCanonical() == b.exportCanonical(), "the laptops did not converge")
    }

    func view(_ s: RecordStore, _ c: String, _ id: String, _ f: String) throws -> FieldView {
        try s.state(c, id)!.view(of: Schema.navette.field(c, f)!)
    }

    @Test("1. referent and facilitator edit the same seeker's notes and soft skills the same day")
    func case1() throws {
        let (referent, facilitator) = try laptops()
        let id = try referent.createRecord("seeker", [.set("identity.lastName", "Moreau"), .set("notes", "Premier entretien.")])
        try sync(referent, facilitator)
        try referent.edit("seeker", id, [.set("notes", "Premier entretien. Projet : vente."), .put("softSkills", key: "rigour", ["level": 3])])
        try facilitator.edit("seeker", id, [.set("notes", "Premier entretien. Atelier CV : très investie."), .put("softSkills", key: "teamwork", ["level": 4])])
        try sync(referent, facilitator)
        guard case .map(let soft) = try view(referent, "seeker", id, "softSkills") else { Issue.record("no map"); return }
        #expect(soft.keys.sorted() == ["rigour", "teamwork"])
        let notes = try view(referent, "seeker", id, "notes")
        guard case .register(let shown?, let others) = notes else { Issue.record("no notes"); return }
        // Nothing typed is lost: both texts are kept until someone merges them.
        #expect(Set([shown.value] + others.map(\.value)).count == 2)
        withKnownIssue("collaborative text (character-level merge of notes) is a later issue; today concurrent notes are a conflict") {
            #expect(others.isEmpty)
        }
    }

    @Test("2. two counsellors register the same seeker to the same session offline: one registration")
    func case2() throws {
        let (a, b) = try laptops()
        let session = try a.createRecord("workshopSession", [.set("capacity", 10)])
        let seeker = try a.createRecord("seeker", [.set("identity.lastName", "Moreau")])
        try sync(a, b)
        let key = RecordKeys.registration(session: session, seeker: seeker)
        for (store, at) in [(b, "2026-02-01T10:00+01:00"), (a, "2026-02-01T11:00+01:00")] {
            clock.advance(by: 1_000)
            try store.edit("registration", key, [
                .set("session", .string(session)), .set("seeker", .string(seeker)), .set("status", "registered"),
                .set("registered", ["at": .string(at)]),
            ])
        }
        try sync(a, b)
        #expect(try a.list("registration").map(\.id) == [key])
        #expect(try view(a, "registration", key, "registered").shown == ["at": "2026-02-01T10:00+01:00"])
    }

    @Test("3. last seat: two offline laptops each register a different seeker beyond capacity")
    func case3() throws {
        let (a, b) = try laptops()
        let session = try a.createRecord("workshopSession", [.set("capacity", 1)])
        let s1 = try a.createRecord("seeker", [.set("identity.lastName", "Un")])
        let s2 = try a.createRecord("seeker", [.set("identity.lastName", "Deux")])
        try sync(a, b)
        for (store, seeker) in [(b, s2), (a, s1)] {
            clock.advance(by: 1_000)
            try store.edit("registration", RecordKeys.registration(session: session, seeker: seeker), [
                .set("session", .string(session)), .set("seeker", .string(seeker)), .set("status", "registered"),
                .set("registered", ["at": "2026-02-01T10:00+01:00"]),
            ])
        }
        try sync(a, b)
        let ra = try a.roster(session: session)!.waitlist
        #expect(ra == (try b.roster(session: session)!.waitlist))
        #expect(ra.confirmed == [RecordKeys.registration(session: session, seeker: s2)], "the earlier registration gets the seat")
        #expect(ra.overbooked == 1)
    }

    @Test("4. a session is cancelled on one laptop while another edits its time: cancel wins")
    func case4() throws {
        let (a, b) = try laptops()
        let session = try a.createRecord("workshopSession", [.set("capacity", 10), .set("start", "2026-03-02T09:30+01:00")])
        try sync(a, b)
        try a.edit("workshopSession", session, [.set("cancelled", true)])
        try b.edit("workshopSession", session, [.set("start", "2026-03-02T14:00+01:00"), .set("cancelled", false)])
        try sync(a, b)
        #expect(try view(a, "workshopSession", session, "cancelled") == .flag(true))
        #expect(try view(a, "workshopSession", session, "start").shown == "2026-03-02T14:00+01:00")
    }

    @Test("5. a seeker moves to another counsellor while the old one edits offline: nothing is silently lost")
    func case5() throws {
        // The refusal of out-of-view edits by the server, and their parking on
        // the laptop, belong to the views issue; between two stores, the old
        // referent's offline edits must survive the move.
        let (old, admin) = try laptops()
        let id = try old.createRecord("seeker", [.set("identity.lastName", "Moreau"), .set("referent", "c1")])
        try sync(old, admin)
        try admin.edit("seeker", id, [.set("referent", "c9")])
        try old.edit("seeker", id, [.set("contact.phone", "0611"), .append("interactions", ["at": "2026-03-02T10:00+01:00", "type": "call"])])
        try sync(old, admin)
        #expect(try view(admin, "seeker", id, "referent").shown == "c9")
        #expect(try view(admin, "seeker", id, "contact.phone").shown == "0611")
        guard case .log(let entries) = try view(admin, "seeker", id, "interactions") else { Issue.record("no log"); return }
        #expect(entries.count == 1)
    }

    @Test("6. consent withdrawn on one laptop while granted on another: withdrawal wins")
    func case6() throws {
        let (a, b) = try laptops()
        let id = try a.createRecord("seeker", [.put("consents", key: "partnerReferral", true)])
        try sync(a, b)
        try a.edit("seeker", id, [.put("consents", key: "partnerReferral", false)])
        clock.advance(by: 60_000)
        try b.edit("seeker", id, [.put("consents", key: "partnerReferral", true)])  // later, but concurrent
        try sync(a, b)
        #expect(try view(a, "seeker", id, "consents") == .map(["partnerReferral": .flag(false)]))
    }

    @Test("7. a health remark is erased while a stale laptop still holds changes that contain it")
    func case7() throws {
        let a = try DiskStore(1, clock: clock)
        let b = try DiskStore(2, clock: clock)
        defer { a.done(); b.done() }
        let remark = "canaryremarkcase7"
        let id = try a.store.createRecord("seeker", [.set("identity.lastName", "Moreau"), .set("sensitive.healthConstraints", .string(remark))])
        try sync(a.store, b.store)
        clock.advance(by: 1_000)
        try b.store.edit("seeker", id, [.set("sensitive.healthConstraints", .string(remark + " (suite)"))])  // stale, offline
        clock.advance(by: 1_000)
        try a.store.edit("seeker", id, [.eraseField("sensitive.healthConstraints")])
        try sync(a.store, b.store)
        try a.store.truncateWAL()
        try b.store.truncateWAL()
        for s in [a, b] {
            #expect(try filesContaining(remark, under: s.dir.path) == [], "a file still holds the remark")
            #expect(try s.store.changes(after: 0).allSatisfy { !$0.change.encoded.contains(remark) })
            #expect(try view(s.store, "seeker", id, "sensitive.healthConstraints").shown == nil)
        }
    }

    @Test("8. a skill is removed on one laptop while its level is edited on another: add wins, as intended")
    func case8() throws {
        let (a, b) = try laptops()
        let id = try a.createRecord("seeker", [.put("skills", key: "ROME:347:100381", ["level": 2, "source": "SELF"])])
        try sync(a, b)
        try a.edit("seeker", id, [.removeEntry("skills", key: "ROME:347:100381")])
        try b.edit("seeker", id, [.put("skills", key: "ROME:347:100381", ["level": 3, "source": "WORKSHOP"])])
        try sync(a, b)
        guard case .map(let skills) = try view(a, "seeker", id, "skills") else { Issue.record("no map"); return }
        #expect(skills["ROME:347:100381"]?.shown == ["level": 3, "source": "WORKSHOP"])
        #expect(skills["ROME:347:100381"]?.conflicting == [])
    }

    @Test("9. the ROME referential changes version while laptops are offline")
    func case9() throws {
        let (old, upgraded) = try laptops()
        let job = Rome.job("M1607")!
        let id = try old.createRecord("seeker", [.set("identity.lastName", "Moreau")])
        try sync(old, upgraded)
        // The old laptop records skills under release 347; the upgraded one
        // under 348, one of them the same skill code.
        try old.edit("seeker", id, job.skills.prefix(5).map { .put("skills", key: "ROME:347:\($0)", ["level": 2, "source": "SELF"]) })
        try upgraded.edit("seeker", id, job.skills.dropFirst(4).prefix(3).map { .put("skills", key: "ROME:348:\($0)", ["level": 3, "source": "COUNSELLOR"]) })
        try sync(old, upgraded)
        guard case .map(let skills) = try view(old, "seeker", id, "skills") else { Issue.record("no map"); return }
        #expect(skills.count == 8, "both releases' keys are kept")
        let match = try old.match(romeCode: "M1607", minimumPercent: 10)
        #expect(match.first?.matched == 7, "a skill held under two releases counts once")
    }
}
