import NavetteCore
import NavetteTesting
import Testing

struct DatasetTests {
    @Test func sameSeedGivesTheSameBytes() {
        let sizes = AgencyDataset.Sizes.scaled(seekers: 60)
        let a = AgencyDataset.generate(seed: 42, sizes: sizes).map(\.encoded).joined(separator: "\n")
        let b = AgencyDataset.generate(seed: 42, sizes: sizes).map(\.encoded).joined(separator: "\n")
        let c = AgencyDataset.generate(seed: 43, sizes: sizes).map(\.encoded).joined(separator: "\n")
        #expect(a == b)
        #expect(a != c)
    }

    @Test func seekerFilesHaveTheSizesOfTheDomain() {
        let changes = AgencyDataset.generate(seed: 1, sizes: .scaled(seekers: 50))
        var replica = MemoryReplica(node: NodeID(rawValue: 9))
        replica.apply(changes)
        let seekers = replica.states.filter { $0.key.collection == "seeker" }
        #expect(seekers.count == 50)
        // A new file is 2–3 KB of canonical JSON, with 15–30 skills.
        let sizes = seekers.map { CanonicalExport.record(collection: "seeker", id: $0.key.id, state: $0.value, schema: .navette).canonicalString.utf8.count }
        let average = sizes.reduce(0, +) / sizes.count
        #expect((2_000...4_000).contains(average), "average seeker file \(average) bytes")
        let skills = Schema.navette.field("seeker", "skills")!
        for (_, s) in seekers {
            guard case .map(let e) = s.view(of: skills) else { continue }
            #expect((10...30).contains(e.count))
        }
        #expect(replica.states.keys.contains { $0.collection == "registration" })
        #expect(replica.states.keys.contains { $0.collection == "workshopSession" })
    }

    @Test func defaultSizesAreAnAgencyOfTheDomain() {
        let s = AgencyDataset.Sizes()
        #expect(s.seekers == 7_000 && s.sessions == 370 && s.registrations == 4_400)
    }
}
