import NavetteCore
import NavetteWire
import Testing

/// What a refused message's error may repeat of it.
struct MessageTests {
    @Test func anUnknownMemberIsNamedOnlyWhenItIsAShortIdentifier() throws {
        let short = #"{"admin":1,"batch":"b","changes":[],"schemaVersion":1}"#
        #expect {
            try PushRequest(body: Array(short.utf8))
        } throws: { ($0 as? MessageError)?.message.contains("unknown member 'admin'") == true }
        // A long or odd name is request content: the error does not repeat it.
        for name in [String(repeating: "x", count: 100), "Inès Moreau", "a'b"] {
            let body = #"{""# + name + #"":1,"batch":"b","changes":[],"schemaVersion":1}"#
            #expect {
                try PushRequest(body: Array(body.utf8))
            } throws: { e in
                let message = (e as? MessageError)?.message ?? ""
                return message.contains("unknown member") && !message.contains(name)
            }
        }
    }
}
