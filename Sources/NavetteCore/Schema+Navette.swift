extension Schema {
    /// The collections of `DOMAIN.md`: seeker files, the workshop catalogue,
    /// sessions, registrations, and the reference data the server writes.
    ///
    /// Version 1. A field added later gets a new name; a peer running this
    /// version stores and relays changes to it without reading them.
    public static let navette = Schema(
        version: 1,
        collections: [.seeker, .workshop, .workshopSession, .registration, .agency, .counsellor]
    )
}

extension ValueType {
    static let text250 = ValueType.string(maxLength: 250)
    static let level = ValueType.int(1...4)
    static let counsellor = ValueType.reference("counsellor")
}

extension CollectionSpec {
    /// A job seeker's file.
    public static let seeker = CollectionSpec(
        name: "seeker", keying: .uuid,
        summaryFields: ["identity.lastName", "identity.firstName", "agency", "referent", "situation.status"],
        fields: [
            FieldSpec("identity.firstName", .lww, .string(maxLength: 100), .p1, "first name"),
            FieldSpec("identity.lastName", .lww, .string(maxLength: 100), .p1, "last name"),
            FieldSpec("identity.birthDate", .lww, .date, .p1, "birth date"),
            FieldSpec("identity.gender", .lww, .oneOf(["female", "male", "other", "unspecified"]), .p1, "gender"),
            FieldSpec("contact.email", .lww, .string(maxLength: 254), .p1, "email address"),
            FieldSpec("contact.phone", .lww, .string(maxLength: 32), .p1, "phone number"),
            FieldSpec(
                "contact.address", .lww,
                .object([
                    .init("line1", .string(maxLength: 200), required: true), .init("line2", .string(maxLength: 200)),
                    .init("postalCode", .string(maxLength: 10), required: true),
                    .init("city", .string(maxLength: 100), required: true),
                ]), .p1, "postal address"),
            FieldSpec(
                "contact.preferredChannel", .lww, .oneOf(["email", "phone", "sms", "post", "inPerson"]), .p1,
                "preferred contact channel"),
            FieldSpec("situation.category", .lww, .oneOf(["A", "B", "C", "D", "E"]), .p0, "registration category"),
            FieldSpec(
                "situation.modality", .lww, .oneOf(["suivi", "guide", "renforce", "global"]), .p0,
                "follow-up modality"),
            FieldSpec("situation.status", .lww, .oneOf(["active", "onHold", "archived"]), .p0, "status"),
            FieldSpec(
                "situation.archiveReason", .lww, .oneOf(["employed", "training", "moved", "noContact", "other"]), .p0,
                "why the file was archived"),
            FieldSpec(
                "situation.flags", .awSet,
                .oneOf(["rsa", "longTermUnemployed", "under26", "over50", "qpv", "returnToWork", "youthGuarantee"]),
                .p1, "situation flags"),
            FieldSpec(
                "sensitive.rqth", .lww,
                .object([.init("recognised", .bool, required: true), .init("validUntil", .date)]), .p2,
                "disability recognition (RQTH)"),
            FieldSpec("sensitive.healthConstraints", .lww, .string(maxLength: 500), .p2, "health constraints"),
            FieldSpec(
                "sensitive.barriers", .awSet,
                .oneOf(["housing", "childcare", "mobility", "language", "health", "finances", "digital"]), .p2,
                "peripheral barriers"),
            FieldSpec("agency", .lww, .reference("agency"), .p0, "agency"),
            FieldSpec("referent", .lww, .counsellor, .p0, "referent counsellor"),
            FieldSpec("followers", .awSet, .reference("counsellor"), .p0, "counsellors who follow the file for a while"),
            FieldSpec(
                "targetJobs", .awMap,
                .object([.init("jobTitle", .string(maxLength: 16)), .init("priority", .int(1...3), required: true)]),
                key: .romeCode, .p0, "target jobs by ROME code"),
            FieldSpec(
                "skills", .awMap,
                .object([
                    .init("level", .level, required: true),
                    .init(
                        "source", .oneOf(["SELF", "COUNSELLOR", "WORKSHOP", "CERTIFIED", "IMPORTED"]), required: true),
                ]), key: .skillKey, .p1, "skills"),
            FieldSpec(
                "softSkills", .awMap,
                .object([.init("level", .level, required: true), .init("observedIn", .reference("workshopSession"))]),
                key: .oneOf(Rome.softSkills.map(\.key)), .p1, "soft skills (savoir-être)"),
            FieldSpec(
                "mobility", .lww,
                .object([
                    .init("radiusKm", .int(0...500)), .init("areas", .list(.string(maxLength: 100), maxCount: 10)),
                    .init("drivingLicences", .list(.oneOf(["AM", "A", "B", "BE", "C", "CE", "D", "DE"]), maxCount: 8)),
                    .init("vehicle", .bool),
                ]), .p1, "mobility"),
            FieldSpec(
                "availability", .lww,
                .object([
                    .init("from", .date),
                    .init("contractTypes", .list(.oneOf(["CDI", "CDD", "interim", "apprenticeship", "seasonal"]), maxCount: 5)),
                    .init("workingTime", .oneOf(["fullTime", "partTime", "any"])),
                    .init("minimumSalary", .int(0...1_000_000)),
                ]), .p1, "availability"),
            FieldSpec(
                "languages", .awMap, .object([.init("level", .oneOf(["A1", "A2", "B1", "B2", "C1", "C2", "native"]), required: true)]),
                key: .string(maxLength: 8), .p1, "languages by ISO 639 code"),
            FieldSpec(
                "diplomas", .awMap,
                .object([
                    .init("title", .text250, required: true), .init("year", .int(1900...2200)),
                    .init("level", .oneOf(["3", "4", "5", "6", "7", "8"])),
                ]), key: .string(maxLength: 64), .p1, "diplomas"),
            FieldSpec(
                "experiences", .awMap,
                .object([
                    .init("title", .text250, required: true), .init("employer", .text250), .init("from", .date),
                    .init("to", .date), .init("description", .string(maxLength: 2048)), .init("order", .int(0...1000)),
                ]), key: .string(maxLength: 64), .pf, "work experiences"),
            FieldSpec(
                "project.kind", .lww, .oneOf(["job", "training", "businessCreation", "reorientation"]), .p0,
                "project kind"),
            FieldSpec("project.mainChallenge", .lww, .string(maxLength: 500), .pf, "main challenge"),
            FieldSpec(
                "project.actions", .awMap,
                .object([
                    .init("title", .text250, required: true),
                    .init("status", .oneOf(["todo", "doing", "done", "dropped"]), required: true), .init("due", .date),
                ]), key: .string(maxLength: 64), .pf, "action plan"),
            FieldSpec("notes", .text, .string(maxLength: 20_000), .pf, "follow-up notes"),
            FieldSpec(
                "appointments", .awMap,
                .object([
                    .init("when", .dateTime, required: true),
                    .init("channel", .oneOf(["inPerson", "phone", "video"]), required: true),
                    .init("status", .oneOf(["planned", "held", "missed", "cancelled"]), required: true),
                    .init("summary", .string(maxLength: 1024)),
                ]), key: .string(maxLength: 64), .pf, "appointments"),
            FieldSpec(
                "interactions", .log,
                .object([
                    .init("at", .dateTime, required: true), .init("by", .counsellor),
                    .init("type", .oneOf(["call", "email", "sms", "visit", "letter", "note"]), required: true),
                    .init("text", .string(maxLength: 500)),
                ]), .pf, "contact log"),
            FieldSpec(
                "consents", .awMap, .bool, key: .oneOf(["dataSharing", "smsReminders", "partnerReferral", "surveys"]),
                entry: .disableWins, .p1, "consents by purpose (withdrawal wins)"),
            FieldSpec("unansweredContactAttempts", .counter, .int(-1000...1000), .p0, "unanswered contact attempts"),
            FieldSpec("erasureRequested", .enableWins, .bool, .p0, "the seeker asked for erasure"),
        ]
    )

    /// A workshop of the catalogue (agency `nil`: the national catalogue).
    public static let workshop = CollectionSpec(
        name: "workshop", keying: .uuid, summaryFields: ["title", "kind", "agency"],
        fields: [
            FieldSpec("title", .lww, .string(maxLength: 250), .p0, "title"),
            FieldSpec("description", .lww, .string(maxLength: 2048), .p0, "description"),
            FieldSpec("kind", .lww, .oneOf(["workshop", "informationSession", "recruitment"]), .p0, "kind"),
            FieldSpec(
                "theme", .lww,
                .oneOf(["jobSearch", "digitalSkills", "careerProject", "skills", "businessCreation", "training"]), .p0,
                "theme"),
            FieldSpec("targetRomeCodes", .awSet, .romeCode, .p0, "target ROME codes"),
            FieldSpec("skillsWorked", .awSet, .skillKey, .p0, "skills worked"),
            FieldSpec("defaultCapacity", .lww, .int(1...200), .p0, "default capacity"),
            FieldSpec("defaultDurationMinutes", .lww, .int(15...600), .p0, "default duration in minutes"),
            FieldSpec("agency", .lww, .reference("agency"), .p0, "agency (none: national catalogue)"),
        ]
    )

    /// A dated session of a workshop.
    public static let workshopSession = CollectionSpec(
        name: "workshopSession", keying: .uuid, summaryFields: ["workshop", "start", "agency"],
        fields: [
            FieldSpec("workshop", .lww, .reference("workshop"), .p0, "workshop"),
            FieldSpec("agency", .lww, .reference("agency"), .p0, "agency"),
            FieldSpec("start", .lww, .dateTime, .p0, "start, in the agency's time zone"),
            FieldSpec("end", .lww, .dateTime, .p0, "end, in the agency's time zone"),
            FieldSpec(
                "location", .lww,
                .object([
                    .init("kind", .oneOf(["room", "online", "outreach"]), required: true),
                    .init("detail", .string(maxLength: 250)),
                ]), .p0, "location"),
            FieldSpec("facilitators", .awSet, .reference("counsellor"), .p0, "facilitators"),
            FieldSpec("capacity", .lww, .int(1...500), .p0, "capacity"),
            FieldSpec("registrationDeadline", .lww, .dateTime, .p0, "registration deadline"),
            FieldSpec("cancelled", .enableWins, .bool, .p0, "cancelled (cancel wins)"),
            FieldSpec(
                "closed", .lww, .object([.init("at", .dateTime, required: true), .init("by", .counsellor)]), .p0,
                "closed at and by"),
            FieldSpec("walkIns", .counter, .int(-500...500), .p0, "walk-ins"),
            FieldSpec("facilitatorNotes", .text, .string(maxLength: 20_000), .pf, "facilitator notes"),
        ]
    )

    /// A seeker's registration to a session; its id is derived from both.
    public static let registration = CollectionSpec(
        name: "registration", keying: .derived, summaryFields: ["session", "seeker", "status", "attendance"],
        fields: [
            FieldSpec("session", .lww, .reference("workshopSession"), .p0, "session"),
            FieldSpec("seeker", .lww, .reference("seeker"), .p0, "seeker"),
            FieldSpec("agency", .lww, .reference("agency"), .p0, "agency of the session"),
            FieldSpec("status", .lww, .oneOf(["registered", "cancelled", "refused"]), .p0, "status"),
            FieldSpec("attendance", .lww, .oneOf(["unknown", "present", "absent", "excused"]), .p0, "attendance"),
            FieldSpec(
                "registered", .writeOnce,
                .object([.init("at", .dateTime, required: true), .init("by", .counsellor)]), .p0,
                "registered at and by (first writer wins)"),
            FieldSpec("channel", .lww, .oneOf(["counsellor", "online", "phone", "walkIn"]), .p0, "channel"),
            FieldSpec("comment", .lww, .string(maxLength: 250), .pf, "comment"),
        ]
    )

    /// An agency (reference data written by the server).
    public static let agency = CollectionSpec(
        name: "agency", keying: .code, summaryFields: ["name", "departement"],
        fields: [
            FieldSpec("name", .lww, .string(maxLength: 200), .p0, "name"),
            FieldSpec("departement", .lww, .string(maxLength: 3), .p0, "département code (\"01\", \"2A\", \"971\")"),
            FieldSpec("timeZone", .lww, .string(maxLength: 64), .p0, "IANA time zone"),
        ]
    )

    /// A counsellor (reference data written by the server).
    public static let counsellor = CollectionSpec(
        name: "counsellor", keying: .code, summaryFields: ["lastName", "firstName", "agency"],
        fields: [
            FieldSpec("firstName", .lww, .string(maxLength: 100), .p1, "first name"),
            FieldSpec("lastName", .lww, .string(maxLength: 100), .p1, "last name"),
            FieldSpec("agency", .lww, .reference("agency"), .p0, "agency"),
            FieldSpec("roles", .awSet, .oneOf(["counsellor", "facilitator", "manager", "reception"]), .p0, "roles"),
        ]
    )
}
