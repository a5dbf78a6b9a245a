/// Why a store operation failed. Messages name paths, ids and rules, never
/// personal values.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case notInitialised = "not-initialised"
            case alreadyInitialised = "already-initialised"
            case recordNotFound = "record-not-found"
            case damaged = "damaged"
            case unsupportedVersion = "unsupported-version"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The directory holds no node store.
        public static var notInitialised: Self { Self(.notInitialised) }
        /// The directory already holds a node store.
        public static var alreadyInitialised: Self { Self(.alreadyInitialised) }
        /// No record has this id.
        public static var recordNotFound: Self { Self(.recordNotFound) }
        /// Stored data could not be read back.
        public static var damaged: Self { Self(.damaged) }
        /// The store was written by a newer version of Navette.
        public static var unsupportedVersion: Self { Self(.unsupportedVersion) }
        public var description: String { base.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
