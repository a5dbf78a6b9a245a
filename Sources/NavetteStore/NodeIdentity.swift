import NavetteCore

/// Who a node is: its id, a name for people, and the agency and counsellor
/// it works for.
public struct NodeIdentity: Hashable, Sendable {
    public var node: NodeID
    /// A label for people ("Laptop of the Lyon 3 reception desk").
    public var name: String
    /// The agency whose records the node works on.
    public var agency: String
    /// The counsellor who uses the node, if any.
    public var counsellor: String?

    public init(node: NodeID, name: String, agency: String, counsellor: String? = nil) {
        self.node = node
        self.name = name
        self.agency = agency
        self.counsellor = counsellor
    }
}
