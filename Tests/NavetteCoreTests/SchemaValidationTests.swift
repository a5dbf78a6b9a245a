import NavetteCore
import NavetteTesting
import Testing

struct SchemaValidationTests {
    let editor = LocalEditor(node: NodeID(rawValue: 1))

    func problem(_ edit: Edit, _ collection: String = "seeker") -> ValidationError? {
        do {
            try editor.validate(edit, collection: collection, state: RecordState())
            return nil
        } catch let e as ValidationError {
            return e
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func everyCollectionOfTheDomainIsDeclared() {
        #expect(Schema.navette.collections.map(\.name) == [
            "seeker", "workshop", "workshopSession", "registration", "agency", "counsellor",
        ])
        for c in Schema.navette.collections {
            #expect(Set(c.fields.map(\.name)).count == c.fields.count, "\(c.name) declares a field twice")
            for f in c.fields where f.kind == .awMap { #expect(f.keyType != nil, "\(c.name).\(f.name) has no key type") }
        }
    }

    @Test func sensitiveAndFreeTextFieldsAreClassed() {
        let seeker = Schema.navette.collection("seeker")!
        #expect(seeker.field("sensitive.healthConstraints")?.personalData == .p2)
        #expect(seeker.field("sensitive.rqth")?.personalData == .p2)
        #expect(seeker.field("notes")?.personalData == .pf)
        #expect(seeker.field("interactions")?.personalData == .pf)
        #expect(seeker.field("identity.lastName")?.personalData == .p1)
        #expect(seeker.field("situation.status")?.personalData == .p0)
    }

    @Test("a wrong value names the field and the rule, never the value", arguments: [
        (Edit.set("contact.email", .string(String(repeating: "x", count: 300) + "@secret.example")), "contact.email", "at most 254"),
        (Edit.set("identity.birthDate", "2026-02-30"), "identity.birthDate", "a date"),
        (Edit.set("situation.status", "secretstatus"), "situation.status", "one of"),
        (Edit.put("skills", key: "ROME:347:100381", ["level": 9, "source": "SELF"]), "skills[ROME:347:100381]", "member 'level'"),
        (Edit.put("skills", key: "secretkey", ["level": 1, "source": "SELF"]), "skills key", "not a skill key"),
        (Edit.set("contact.address", ["line1": "secret street", "city": "Lyon"]), "contact.address", "postalCode"),
        (Edit.set("contact.phone", 612), "contact.phone", "not text"),
        (Edit.add("situation.flags", element: "secretflag"), "situation.flags", "one of"),
        (Edit.set("sensitive.healthConstraints", "secret\u{07}bell"), "sensitive.healthConstraints", "control character"),
    ])
    func wrongValues(_ edit: Edit, _ field: String, _ hint: String) {
        guard let e = problem(edit) else {
            Issue.record("accepted")
            return
        }
        #expect(e.field == field)
        #expect(e.description.contains(hint), "\(e.description)")
        #expect(!e.description.contains("secret"), "the error quotes the value: \(e.description)")
    }

    @Test func wrongOperationsForAKindAreRefused() {
        #expect(problem(.add("contact.phone", element: "x"))?.problem == "cannot add an element to it")
        #expect(problem(.increment("contact.phone", by: 1)) != nil)
        #expect(problem(.set("skills", "x")) != nil)
        #expect(problem(.append("notes", "x")) != nil)
        #expect(problem(.set("nope", "x"))?.problem == "seeker has no such field")
        #expect(problem(.set("x", "y"), "spaceship")?.problem == "this collection does not exist")
    }

    @Test func validValuesPass() {
        #expect(problem(.set("contact.address", ["line1": "1 rue X", "postalCode": "69003", "city": "Lyon"])) == nil)
        #expect(problem(.set("identity.birthDate", "2000-02-29")) == nil)
        #expect(problem(.set("mobility", ["radiusKm": 30, "drivingLicences": ["B"]])) == nil)
        #expect(problem(.put("consents", key: "smsReminders", false)) == nil)
        #expect(problem(.set("start", "2026-03-02T09:30+01:00"), "workshopSession") == nil)
        #expect(problem(.set("start", "2026-03-02T09:30"), "workshopSession") != nil)
    }

    @Test func registrationKeysAreDeterministicAndDistinct() {
        let a = RecordKeys.registration(session: sessionID, seeker: seekerID)
        #expect(a == RecordKeys.registration(session: sessionID, seeker: seekerID))
        #expect(a != RecordKeys.registration(session: seekerID, seeker: sessionID))
        #expect(a != RecordKeys.registration(session: sessionID, seeker: otherSeekerID))
        #expect(a.count == 36 && Array(a)[14] == "8")
        #expect(RecordKeys.isValidID(a))
    }

    @Test func waitlistRanksByFirstRegistrationThenNode() {
        let s = { (t: UInt64, n: UInt64) in Stamp(time: Timestamp(wallMillis: t, counter: 0), node: NodeID(rawValue: n)) }
        let w = Waitlist(capacity: 2, registrations: [("c", s(30, 1)), ("a", s(10, 2)), ("b", s(10, 1)), ("d", s(40, 1))])
        #expect(w.confirmed == ["b", "a"])
        #expect(w.waitlisted == ["c", "d"])
        #expect(w.overbooked == 2)
        #expect(Waitlist(capacity: 5, registrations: [("x", s(1, 1))]).waitlisted.isEmpty)
    }

    @Test func romeSubsetIsEmbeddedWithItsSource() {
        #expect(Rome.version == 347)
        #expect(Rome.jobs.count == 40)
        #expect(Rome.job("K2204")?.label == "Nettoyage de locaux")
        #expect(Rome.jobs.allSatisfy { Rome.isValidCode($0.code) && !$0.skills.isEmpty })
        #expect(Rome.softSkills.count == 14)
        #expect(Rome.SkillKey("ROME:347:100381")?.code == "100381")
        #expect(Rome.SkillKey("ROME:x:1") == nil)
    }
}
