/// The ROME referential (Répertoire Opérationnel des Métiers et des
/// Emplois): job codes and the skills they demand.
///
/// Navette embeds a curated subset (40 common job codes with up to ten
/// skills each) of ROME v3, release 347, published by Pôle emploi under the
/// Licence Ouverte 2.0; `Tools/rome-subset.py` regenerates it from the open
/// data. A seeker's skills are keyed `ROME:<version>:<skill code>`, so that a
/// referential released while laptops are offline adds keys rather than
/// rewriting them; matching compares skill codes whatever their version.
public enum Rome {
    /// A job code with its label and skills (OGR codes).
    public struct Job: Hashable, Sendable {
        public var code: String
        public var label: String
        public var skills: [String]
    }

    /// A skill key, `ROME:<version>:<OGR code>`.
    public struct SkillKey: Hashable, Sendable, CustomStringConvertible {
        public var version: Int
        public var code: String

        public init(version: Int = Rome.version, code: String) {
            self.version = version
            self.code = code
        }

        /// Parses `ROME:<version>:<code>`; `nil` for anything else.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "ROME", let v = Int(parts[1]), v > 0, v < 100_000,
                !parts[2].isEmpty, parts[2].count <= 10, parts[2].allSatisfy({ $0.isASCII && $0.isNumber })
            else { return nil }
            self.version = v
            self.code = String(parts[2])
        }

        public var description: String { "ROME:\(version):\(code)" }
    }

    /// Whether `code` has the shape of a ROME code: a capital letter and
    /// four digits.
    public static func isValidCode(_ code: String) -> Bool {
        let u = Array(code.utf8)
        return u.count == 5 && (0x41...0x5A).contains(u[0]) && u[1...].allSatisfy { (0x30...0x39).contains($0) }
    }

    /// The embedded job with `code`, if any.
    public static func job(_ code: String) -> Job? { jobsByCode[code] }

    private static let jobsByCode: [String: Job] = Dictionary(uniqueKeysWithValues: jobs.map { ($0.code, $0) })

    /// The 14 professional soft skills (savoir-être) of Pôle emploi's 2016
    /// list, by key.
    public static let softSkills: [(key: String, label: String)] = [
        ("autonomy", "Autonomie"),
        ("adaptability", "Capacité d'adaptation"),
        ("decisionMaking", "Capacité à prendre des décisions"),
        ("initiative", "Sens de l'initiative, force de proposition"),
        ("curiosity", "Curiosité"),
        ("organisation", "Sens de l'organisation"),
        ("rigour", "Rigueur"),
        ("perseverance", "Persévérance"),
        ("stressManagement", "Gestion du stress"),
        ("reliability", "Réactivité"),
        ("teamwork", "Travail en équipe"),
        ("communication", "Sens de la communication"),
        ("customerCare", "Sens du service, relation client"),
        ("leadership", "Capacité à fédérer, leadership"),
    ]
}
