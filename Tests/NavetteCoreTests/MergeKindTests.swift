import NavetteCore
import NavetteTesting
import Testing

/// One test (or more) per merge kind, on two or three replicas.
struct MergeKindTests {
    @Test func lwwConcurrentWritesConflictAndTheGreaterStampIsShown() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("contact.phone", "0100"), at: 1_000)
        exchange(&a, &b)
        try a.seeker(.set("contact.phone", "0111"), at: 2_000)
        try b.seeker(.set("contact.phone", "0122"), at: 3_000)
        exchange(&a, &b)
        #expect(a.seeker("contact.phone").shown == "0122")
        #expect(a.seeker("contact.phone").conflicting == ["0111"])
        #expect(a.export() == b.export())
    }

    @Test func aWriteThatSawAllConflictingValuesResolvesTheConflict() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("contact.phone", "0111"), at: 2_000)
        try b.seeker(.set("contact.phone", "0122"), at: 3_000)
        exchange(&a, &b)
        try a.seeker(.set("contact.phone", "0111"), at: 4_000)  // A chooses its own value again
        exchange(&a, &b)
        #expect(b.seeker("contact.phone").shown == "0111")
        #expect(b.seeker("contact.phone").conflicting.isEmpty)
    }

    @Test func lwwTieOnTimeIsBrokenByNode() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("contact.phone", "from-1"), at: 5_000)
        try b.seeker(.set("contact.phone", "from-2"), at: 5_000)
        exchange(&a, &b)
        #expect(a.seeker("contact.phone").shown == "from-2")
        #expect(b.seeker("contact.phone").shown == "from-2")
    }

    @Test func aClearConcurrentWithAWriteLoses() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("contact.phone", "0100"), at: 1_000)
        exchange(&a, &b)
        try a.seeker(.clear("contact.phone"), at: 9_000)
        try b.seeker(.set("contact.phone", "0199"), at: 2_000)
        exchange(&a, &b)
        #expect(a.seeker("contact.phone").shown == "0199")
        #expect(a.seeker("contact.phone").conflicting.isEmpty)
    }

    @Test func writeOnceKeepsTheFirstWriteWhateverTheArrivalOrder() throws {
        var a = replica(1), b = replica(2)
        let id = "44444444-4444-4444-8444-444444444444"
        try b.edit("registration", id, .set("registered", ["at": "2026-03-02T10:00+01:00"]), wallMillis: 9_000)
        try a.edit("registration", id, .set("registered", ["at": "2026-03-02T09:00+01:00"]), wallMillis: 2_000)
        exchange(&a, &b)
        let spec = Schema.navette.field("registration", "registered")!
        #expect(a.state("registration", id).view(of: spec).shown == ["at": "2026-03-02T09:00+01:00"])
        #expect(a.export() == b.export())
        // Local input cannot overwrite it.
        #expect(throws: ValidationError.self) {
            try a.edit("registration", id, .set("registered", ["at": "2026-03-03T09:00+01:00"]), wallMillis: 10_000)
        }
    }

    @Test func awSetAddWinsOverAConcurrentRemove() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.add("situation.flags", element: "rsa"), at: 1_000)
        exchange(&a, &b)
        try a.seeker(.removeElement("situation.flags", element: "rsa"), at: 5_000)
        try b.seeker(.add("situation.flags", element: "rsa"), at: 2_000)
        try b.seeker(.add("situation.flags", element: "under26"), at: 2_500)
        exchange(&a, &b)
        #expect(a.seeker("situation.flags") == .set(["rsa", "under26"]))
        // A removal that saw every add removes.
        try a.seeker(.removeElement("situation.flags", element: "rsa"), at: 6_000)
        exchange(&a, &b)
        #expect(b.seeker("situation.flags") == .set(["under26"]))
    }

    @Test func awMapConcurrentPutsOfOneEntryConflictAndOtherEntriesMerge() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.put("skills", key: "ROME:347:100381", ["level": 2, "source": "SELF"]), at: 1_000)
        try b.seeker(.put("skills", key: "ROME:347:100381", ["level": 3, "source": "COUNSELLOR"]), at: 2_000)
        try b.seeker(.put("skills", key: "ROME:347:101343", ["level": 1, "source": "SELF"]), at: 2_100)
        exchange(&a, &b)
        guard case .map(let entries) = a.seeker("skills") else { Issue.record("not a map"); return }
        #expect(entries.keys.sorted() == ["ROME:347:100381", "ROME:347:101343"])
        #expect(entries["ROME:347:100381"]?.shown == ["level": 3, "source": "COUNSELLOR"])
        #expect(entries["ROME:347:100381"]?.conflicting == [["level": 2, "source": "SELF"]])
    }

    @Test func counterSumsEveryIncrementOnce() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.increment("unansweredContactAttempts", by: 2), at: 1_000)
        try b.seeker(.increment("unansweredContactAttempts", by: 3), at: 1_000)
        try b.seeker(.increment("unansweredContactAttempts", by: -1), at: 1_100)
        exchange(&a, &b)
        exchange(&a, &b)  // again: nothing is counted twice
        a.apply(b.log + a.log)
        #expect(a.seeker("unansweredContactAttempts") == .counter(4))
        #expect(b.seeker("unansweredContactAttempts") == .counter(4))
    }

    @Test func enableWinsFlagCancelWinsOverAConcurrentUncancel() throws {
        var a = replica(1), b = replica(2)
        try a.edit("workshopSession", sessionID, .set("cancelled", true), wallMillis: 1_000)
        exchange(&a, &b)
        try a.edit("workshopSession", sessionID, .set("cancelled", false), wallMillis: 9_000)
        try b.edit("workshopSession", sessionID, .set("cancelled", true), wallMillis: 2_000)
        exchange(&a, &b)
        let spec = Schema.navette.field("workshopSession", "cancelled")!
        #expect(a.state("workshopSession", sessionID).view(of: spec) == .flag(true))
        // Un-cancelling after seeing every cancellation works.
        try a.edit("workshopSession", sessionID, .set("cancelled", false), wallMillis: 10_000)
        exchange(&a, &b)
        #expect(b.state("workshopSession", sessionID).view(of: spec) == .flag(false))
    }

    @Test func disableWinsFlagWithdrawalWinsOverAConcurrentGrant() throws {
        let schema = Schema(
            version: 99,
            collections: [
                CollectionSpec(name: "thing", keying: .uuid, fields: [FieldSpec("enabled", .disableWins, .bool, .p0, "")])
            ])
        var a = MemoryReplica(node: NodeID(rawValue: 1), schema: schema)
        var b = MemoryReplica(node: NodeID(rawValue: 2), schema: schema)
        try a.edit("thing", "t", .set("enabled", true), wallMillis: 1_000)
        exchange(&a, &b)
        try a.edit("thing", "t", .set("enabled", true), wallMillis: 9_000)
        try b.edit("thing", "t", .set("enabled", false), wallMillis: 2_000)
        exchange(&a, &b)
        #expect(a.state("thing", "t").view(of: schema.field("thing", "enabled")!) == .flag(false))
    }

    @Test func logKeepsEveryAppendAndRedactionLeavesAMarkerOnly() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.append("interactions", ["at": "2026-03-02T10:00+01:00", "type": "call", "text": "rappel OK"]), at: 1_000)
        try b.seeker(.append("interactions", ["at": "2026-03-02T11:00+01:00", "type": "sms", "text": "confidentiel"]), at: 2_000)
        exchange(&a, &b)
        guard case .log(let entries) = a.seeker("interactions") else { Issue.record("not a log"); return }
        #expect(entries.count == 2)
        #expect(entries.map { $0.entry?.value["type"]?.stringValue } == ["call", "sms"])
        try a.seeker(.redact("interactions", entry: entries[1].key), at: 3_000)
        exchange(&a, &b)
        guard case .log(let after) = b.seeker("interactions") else { Issue.record("not a log"); return }
        #expect(after.count == 2)
        #expect(after[1].isRedacted)
        #expect(!b.export().contains("confidentiel"))
        #expect(!b.log.map(\.encoded).joined().contains("confidentiel"))
        #expect(a.export() == b.export())
    }

    @Test func aDeletionConcurrentWithAnEditIsCancelledAndTheRecordComesBackWhole() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("identity.lastName", "Moreau"), at: 1_000)
        try a.seeker(.set("contact.phone", "0100"), at: 1_100)
        exchange(&a, &b)
        try a.seeker(.deleteRecord, at: 5_000)
        #expect(a.state("seeker", seekerID).isDeleted)
        try b.seeker(.set("contact.phone", "0199"), at: 4_000)  // B had not seen the deletion
        exchange(&a, &b)
        #expect(!a.state("seeker", seekerID).isDeleted)
        #expect(a.seeker("identity.lastName").shown == "Moreau")
        #expect(a.seeker("contact.phone").shown == "0199")
        #expect(a.export() == b.export())
    }

    @Test func aDeletionThatSawEveryEditDeletes() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("identity.lastName", "Moreau"), at: 1_000)
        exchange(&a, &b)
        try b.seeker(.deleteRecord, at: 2_000)
        exchange(&a, &b)
        #expect(a.state("seeker", seekerID).isDeleted)
        #expect(throws: ValidationError.self) { try a.seeker(.set("contact.phone", "0100"), at: 3_000) }
        #expect(a.export().contains("\"deleted\":true"))
    }

    @Test func erasingARecordPurgesItEverywhereAndDropsLaterChanges() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("identity.lastName", "Zyxwv"), at: 1_000)
        exchange(&a, &b)
        let stale = try b.seeker(.set("sensitive.healthConstraints", "asthme sévère"), at: 2_000)
        try a.seeker(.eraseRecord, at: 3_000)
        exchange(&a, &b)
        for r in [a, b] {
            #expect(r.state("seeker", seekerID).isErased)
            let everything = r.export() + r.log.map(\.encoded).joined()
            #expect(!everything.contains("Zyxwv"))
            #expect(!everything.contains("asthme"))
        }
        // The stale change arriving again is dropped, not stored.
        var c = replica(3)
        c.apply(a.log)
        c.apply([stale])
        #expect(!c.log.contains { $0.id == stale.id })
        #expect(c.export() == a.export())
    }

    @Test func erasingAFieldPurgesOlderValuesEvenWhenTheyArriveLater() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("sensitive.healthConstraints", "diabète"), at: 1_000)
        exchange(&a, &b)
        // B, offline, rewrites the remark; A erases the field later.
        try b.seeker(.set("sensitive.healthConstraints", "diabète type 2"), at: 2_000)
        try a.seeker(.eraseField("sensitive.healthConstraints"), at: 3_000)
        exchange(&a, &b)
        for r in [a, b] {
            #expect(r.seeker("sensitive.healthConstraints").shown == nil)
            #expect(!(r.export() + r.log.map(\.encoded).joined()).contains("diab"))
        }
        // A write after the erasure is a new value and stays.
        try b.seeker(.set("sensitive.healthConstraints", "aucune"), at: 4_000)
        exchange(&a, &b)
        #expect(a.seeker("sensitive.healthConstraints").shown == "aucune")
    }

    @Test func aFieldOrOperationFromANewerVersionIsStoredAndRelayedUnchanged() throws {
        var a = replica(1)
        let future = try Change(
            encoded: Array(
                #"{"collection":"seeker","field":"wellbeing.score","id":"00000000000000ff-1","op":"set","record":"\#(seekerID)","time":"0000000003e80000","value":{"score":3.5},"x-new":true}"#
                    .utf8))
        let text = try Change(
            encoded: Array(
                #"{"collection":"seeker","field":"notes","id":"00000000000000ff-2","op":"splice","record":"\#(seekerID)","time":"0000000003e80001","value":{"at":0,"insert":"x"}}"#
                    .utf8))
        a.apply([future, text])
        #expect(a.log.count == 2)
        #expect(a.log[0].encoded == future.encoded)
        #expect(a.log[0].encoded.contains("\"x-new\":true"))
        #expect(a.log[1].operation == .other("splice"))
        #expect(a.export().contains("wellbeing.score"))
        #expect(a.export().contains("3.5"))
        var b = replica(2)
        b.apply(a.log)
        #expect(b.export() == a.export())
    }

    @Test func textFieldsKeepConcurrentEditsSideBySideUntilTheTextKindShips() throws {
        var a = replica(1), b = replica(2)
        try a.seeker(.set("notes", "Entretien : projet vente."), at: 1_000)
        exchange(&a, &b)
        try a.seeker(.set("notes", "Entretien : projet vente. Permis B en cours."), at: 2_000)
        try b.seeker(.set("notes", "Entretien : projet vente. Atelier CV suivi."), at: 2_500)
        exchange(&a, &b)
        // Nothing typed is lost: both versions are kept, as a conflict.
        let notes = a.seeker("notes")
        #expect(Set([notes.shown] + notes.conflicting.map { Optional($0) }).count == 2)
        withKnownIssue("collaborative text (character-level merge) is not built yet: concurrent notes show as a conflict") {
            #expect(notes.conflicting.isEmpty)
            #expect(notes.shown == "Entretien : projet vente. Permis B en cours. Atelier CV suivi.")
        }
    }
}
