import NavetteCore
import NavetteStore
import NavetteTesting
import Testing

/// The view generation a server caches views by: it moves on exactly when a
/// write changes what views are computed from.
struct ViewGenerationTests {
    @Test func theGenerationMovesOnWhenWhatViewsReadChangesAndOnlyThen() throws {
        let store = try RecordStore.inMemory(identity: NodeIdentity(node: NodeID(rawValue: 0x5E), name: "server", agency: "*"))
        var last = try store.viewGeneration()
        func moved(_ what: Comment, _ expected: Bool) throws {
            let now = try store.viewGeneration()
            #expect((now != last) == expected, what)
            last = now
        }
        let id = try store.createRecord("seeker", [.set("agency", "069-lyon-3"), .set("identity.lastName", "Moreau")])
        try moved("a new record", true)
        try store.edit("seeker", id, [.set("contact.phone", "0611")])
        try moved("an edit of a field no view reads", false)
        try store.edit("seeker", id, [.set("referent", "c1")])
        try moved("a new referent", true)
        try store.edit("seeker", id, [.add("followers", element: "c2")])
        try moved("a new follower", true)
        try store.edit("seeker", id, [.add("followers", element: "c2")])
        try moved("a follower already there", false)
        try store.edit("seeker", id, [.set("agency", "075-paris-1")])
        try moved("a transfer", true)
        try store.edit("seeker", id, [.set("identity.firstName", "Inès")])
        try moved("another plain edit", false)
        try store.eraseSeeker(id)
        try moved("an erasure", true)
    }
}
