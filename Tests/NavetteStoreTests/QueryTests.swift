import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

struct QueryTests {
    @Test func listsFilterByReferentStatusAndAgency() throws {
        let store = try RecordStore.inMemory(identity: identity(1))
        let a = try store.createRecord("seeker", [.set("identity.lastName", "Martin"), .set("referent", "c1"), .set("situation.status", "active"), .set("agency", "069-lyon-3")])
        let b = try store.createRecord("seeker", [.set("identity.lastName", "Bernard"), .set("referent", "c2"), .set("situation.status", "active"), .set("agency", "069-lyon-3")])
        let c = try store.createRecord("seeker", [.set("identity.lastName", "Dubois"), .set("referent", "c1"), .set("situation.status", "archived"), .set("agency", "075-paris-1")])
        #expect(try store.list("seeker").map(\.id) == [b, c, a])  // by name
        #expect(try store.list("seeker", filter: .init(referent: "c1")).map(\.id).sorted() == [a, c].sorted())
        #expect(try store.list("seeker", filter: .init(status: "active")).map(\.id).sorted() == [a, b].sorted())
        #expect(try store.list("seeker", filter: .init(agency: "075-paris-1")).map(\.id) == [c])
        #expect(try store.list("seeker", filter: .init(referent: "c1", status: "active")).map(\.id) == [a])
        try store.edit("seeker", c, [.deleteRecord])
        #expect(try store.list("seeker", filter: .init(referent: "c1")).map(\.id) == [a])
    }

    @Test func seekersAreFoundByNameIgnoringCaseAndAccents() throws {
        let store = try RecordStore.inMemory(identity: identity(1))
        let e = try store.createRecord("seeker", [.set("identity.firstName", "Éloïse"), .set("identity.lastName", "Lefèvre")])
        _ = try store.createRecord("seeker", [.set("identity.firstName", "Karim"), .set("identity.lastName", "Benali")])
        #expect(try store.list("seeker", filter: .init(name: "lefevre")).map(\.id) == [e])
        #expect(try store.list("seeker", filter: .init(name: "ELOISE")).map(\.id) == [e])
        #expect(try store.list("seeker", filter: .init(name: "%")).isEmpty, "LIKE wildcards are escaped")
    }

    /// Plain ASCII names fold without ICU; the index row follows a rename,
    /// and is left alone by an edit of a field lists do not read.
    @Test func aRenamedSeekerIsFoundByTheNewNameOnly() throws {
        let store = try RecordStore.inMemory(identity: identity(1))
        let o = try store.createRecord("seeker", [.set("identity.firstName", "Sean"), .set("identity.lastName", "O'Brien-SMITH")])
        #expect(try store.list("seeker", filter: .init(name: "brien-smith")).map(\.id) == [o])
        #expect(try store.list("seeker", filter: .init(name: "SEAN O")).isEmpty, "the key is last name, then first name")
        #expect(try store.list("seeker", filter: .init(name: "SMITH SEAN")).map(\.id) == [o])
        try store.edit("seeker", o, [.set("contact.phone", "06 12 34 56 78")])
        #expect(try store.list("seeker", filter: .init(name: "o'brien")).map(\.id) == [o])
        try store.edit("seeker", o, [.set("identity.lastName", "Lefèvre")])
        #expect(try store.list("seeker", filter: .init(name: "smith")).isEmpty)
        #expect(try store.list("seeker", filter: .init(name: "LEFEVRE sean")).map(\.id) == [o])
        try store.edit("seeker", o, [.set("identity.lastName", "Lefevre")])
        #expect(try store.list("seeker", filter: .init(name: "lefèvre")).map(\.id) == [o])
    }

    @Test func skillsMatchCountsTheJobsSkillsWhateverTheirVersion() throws {
        let store = try RecordStore.inMemory(identity: identity(1))
        let job = Rome.job("K2204")!
        func skills(_ codes: ArraySlice<String>, version: Int = 347) -> [Edit] {
            codes.map { .put("skills", key: "ROME:\(version):\($0)", ["level": 2, "source": "SELF"]) }
        }
        let all = try store.createRecord("seeker", [.set("identity.lastName", "A")] + skills(job.skills[...]))
        let half = try store.createRecord("seeker", [.set("identity.lastName", "B")] + skills(job.skills.prefix(job.skills.count / 2)))
        let newer = try store.createRecord("seeker", [.set("identity.lastName", "C")] + skills(job.skills.prefix(job.skills.count / 2), version: 348))
        _ = try store.createRecord("seeker", [.set("identity.lastName", "D")] + skills(job.skills.prefix(1)))
        let at50 = try store.match(romeCode: "K2204", minimumPercent: 50)
        #expect(at50.map(\.seeker).first == all)
        #expect(Set(at50.map(\.seeker)) == [all, half, newer])
        #expect(try store.match(romeCode: "K2204", minimumPercent: 100).map(\.seeker) == [all])
        #expect(try store.match(romeCode: "Z9999", minimumPercent: 10).isEmpty)
    }

    @Test func conflictsListTheLosingValuesWithTheirAuthors() throws {
        let a = try RecordStore.inMemory(identity: identity(1))
        let b = try RecordStore.inMemory(identity: identity(2))
        let id = try a.createRecord("seeker", [.set("identity.lastName", "Martin")])
        try b.pull(from: a)
        try a.edit("seeker", id, [.set("contact.phone", "0111"), .put("skills", key: "ROME:347:100381", ["level": 1, "source": "SELF"])])
        try b.edit("seeker", id, [.set("contact.phone", "0122"), .put("skills", key: "ROME:347:100381", ["level": 4, "source": "CERTIFIED"])])
        try a.pull(from: b)
        let conflicts = try a.conflicts()
        #expect(conflicts.map(\.field) == ["contact.phone", "skills"])
        #expect(conflicts[1].key == "ROME:347:100381")
        let phone = conflicts[0]
        #expect(Set(([phone.current] + phone.others).map(\.id.origin)) == [NodeID(rawValue: 1), NodeID(rawValue: 2)])
        // Writing the field again, having seen both, resolves it.
        try a.edit("seeker", id, [.set("contact.phone", phone.others[0].value)])
        #expect(try a.conflicts().map(\.field) == ["skills"])
        #expect(try a.status().conflicts == 1)
    }

    @Test func rosterConfirmsTheEarliestRegistrationsAndShowsOverbooking() throws {
        let clock = ManualClock(millis: 1_767_600_000_000)
        let a = try RecordStore.inMemory(identity: identity(1), configuration: .init(wallClock: clock.read))
        let b = try RecordStore.inMemory(identity: identity(2), configuration: .init(wallClock: clock.read))
        let session = try a.createRecord("workshopSession", [.set("capacity", 2), .set("start", "2026-03-02T09:30+01:00")])
        let seekers = try (0..<4).map { i in try a.createRecord("seeker", [.set("identity.lastName", .string("S\(i)"))]) }
        try b.pull(from: a)
        func register(_ store: RecordStore, _ seeker: String) throws {
            clock.advance(by: 1_000)
            try store.edit("registration", RecordKeys.registration(session: session, seeker: seeker), [
                .set("session", .string(session)), .set("seeker", .string(seeker)), .set("status", "registered"),
                .set("registered", ["at": "2026-02-01T10:00+01:00"]),
            ])
        }
        try register(b, seekers[0])
        try register(a, seekers[1])
        try register(b, seekers[2])
        try register(a, seekers[3])
        try a.pull(from: b)
        try b.pull(from: a)
        let ra = try a.roster(session: session)!
        let rb = try b.roster(session: session)!
        #expect(ra.waitlist == rb.waitlist)
        #expect(ra.waitlist.confirmed == [0, 1].map { RecordKeys.registration(session: session, seeker: seekers[$0]) })
        #expect(ra.waitlist.overbooked == 2)
    }
}
