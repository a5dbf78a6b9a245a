import ArgumentParser
import NavetteCore

extension Navette {
    struct SchemaCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "List the collections, their fields and how each merges; or the embedded ROME codes.")
        @Argument(help: "A collection (seeker, workshop, workshopSession, registration, agency, counsellor), or 'rome'.")
        var collection: String?

        func run() throws {
            let schema = Schema.navette
            guard let collection else {
                print("schema version \(schema.version)")
                for c in schema.collections { print("  \(c.name)  (\(c.fields.count) fields)") }
                return
            }
            if collection == "rome" {
                print("ROME v3 release \(Rome.version), embedded subset (Pole emploi, Licence Ouverte 2.0)")
                Output.table(["code", "skills", "label"], Rome.jobs.map { [$0.code, String($0.skills.count), $0.label] })
                return
            }
            guard let spec = schema.collection(collection) else {
                let names = schema.collections.map(\.name).joined(separator: ", ")
                throw CLIError("'\(collection)' is not a collection; the collections are \(names), or 'rome'")
            }
            Output.table(
                ["field", "kind", "class", "type"],
                spec.fields.map { f in
                    var type = f.type.summary
                    if let k = f.keyType { type = "key: \(k.summary); value: \(type)" }
                    if f.kind == .awMap, f.entryKind != .lww { type += " (\(f.entryKind.rawValue))" }
                    return [f.name, f.kind.rawValue, f.personalData.rawValue, type]
                })
        }
    }
}
