import NavetteCore
import NavetteTesting

/// A replica named by a small number, for readable tests.
func replica(_ n: UInt64) -> MemoryReplica { MemoryReplica(node: NodeID(rawValue: n)) }

/// Gives each replica every change the other holds.
func exchange(_ a: inout MemoryReplica, _ b: inout MemoryReplica) {
    let fromA = a.log
    a.apply(b.log)
    b.apply(fromA)
}

let seekerID = "11111111-1111-4111-8111-111111111111"
let sessionID = "22222222-2222-4222-8222-222222222222"
let otherSeekerID = "33333333-3333-4333-8333-333333333333"

extension MemoryReplica {
    /// The view of a seeker field, by name.
    func seeker(_ field: String, _ id: String = seekerID) -> FieldView {
        state("seeker", id).view(of: Schema.navette.field("seeker", field)!)
    }

    /// Edits a seeker at a given wall time.
    @discardableResult
    mutating func seeker(_ edit: Edit, at wall: UInt64, _ id: String = seekerID) throws -> Change {
        try self.edit("seeker", id, edit, wallMillis: wall)
    }
}
