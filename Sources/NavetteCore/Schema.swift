/// The declaration of one field of a collection.
public struct FieldSpec: Hashable, Sendable {
    /// The dotted name, as in `DOMAIN.md` (`identity.firstName`).
    public var name: String
    public var kind: FieldKind
    /// The type of the value; for a set, of an element; for a map, of an
    /// entry's value; for a log, of an entry.
    public var type: ValueType
    /// For maps, the type of keys (sets use ``type`` for elements).
    public var keyType: ValueType?
    /// For maps, how each entry merges: ``FieldKind/lww`` (default),
    /// ``FieldKind/enableWins`` or ``FieldKind/disableWins``.
    public var entryKind: FieldKind
    public var personalData: PersonalDataClass
    /// A line for help texts.
    public var summary: String

    public init(
        _ name: String, _ kind: FieldKind, _ type: ValueType, key keyType: ValueType? = nil,
        entry entryKind: FieldKind = .lww, _ personalData: PersonalDataClass, _ summary: String
    ) {
        self.name = name
        self.kind = kind
        self.type = type
        self.keyType = keyType
        self.entryKind = entryKind
        self.personalData = personalData
        self.summary = summary
    }

    /// Whether a field with several current values shows them as a conflict.
    public var showsConflicts: Bool {
        switch kind {
        case .lww, .text: true
        case .awMap: entryKind == .lww
        default: false
        }
    }
}

/// The declaration of a collection: its fields and how its records are keyed.
public struct CollectionSpec: Hashable, Sendable {
    public enum Keying: Hashable, Sendable {
        /// A random UUID minted by the node that creates the record.
        case uuid
        /// A key derived from other records, so that two offline nodes
        /// creating "the same" record make one (``RecordKeys``).
        case derived
        /// Reference data written by the server; ids are short codes.
        case code
    }

    public var name: String
    public var keying: Keying
    public var fields: [FieldSpec]
    /// The fields a list shows and filters on, besides the id.
    public var summaryFields: [String]

    public init(name: String, keying: Keying, summaryFields: [String] = [], fields: [FieldSpec]) {
        self.name = name
        self.keying = keying
        self.fields = fields
        self.summaryFields = summaryFields
        self.fieldsByName = Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0) })
    }

    private var fieldsByName: [String: FieldSpec]

    /// The field named `name`, if this version knows it.
    public func field(_ name: String) -> FieldSpec? { fieldsByName[name] }
}

/// The schema of all collections: the single source of field kinds, types,
/// limits and personal-data classes.
public struct Schema: Hashable, Sendable {
    /// The version of the schema, carried in sync messages.
    public var version: Int
    public var collections: [CollectionSpec]

    public init(version: Int, collections: [CollectionSpec]) {
        self.version = version
        self.collections = collections
        self.byName = Dictionary(uniqueKeysWithValues: collections.map { ($0.name, $0) })
    }

    private var byName: [String: CollectionSpec]

    /// The collection named `name`, if this version knows it.
    public func collection(_ name: String) -> CollectionSpec? { byName[name] }

    /// The field `field` of `collection`, if this version knows both.
    public func field(_ collection: String, _ field: String) -> FieldSpec? {
        byName[collection]?.field(field)
    }
}
