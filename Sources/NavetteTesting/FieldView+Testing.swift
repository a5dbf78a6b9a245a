import NavetteCore

extension FieldView {
    /// The value a register or write-once field shows, if any.
    public var shown: JSONValue? {
        if case .register(let c, _) = self { return c?.value }
        if case .writeOnce(let c) = self { return c?.value }
        return nil
    }

    /// The losing concurrent values of a register.
    public var conflicting: [JSONValue] {
        if case .register(_, let others) = self { return others.map(\.value) }
        return []
    }
}
