import NavetteCore
import Testing

struct JSONValueTests {
    @Test func canonicalEncodingSortsKeysAndEscapesMinimally() {
        let v: JSONValue = ["b": 1, "a": ["x": "q\"uo\\te\n", "é": true], "c": [.null, -3]]
        #expect(v.canonicalString == #"{"a":{"x":"q\"uo\\te\n","é":true},"b":1,"c":[null,-3]}"#)
    }

    @Test func controlCharactersAreEscapedAsUnicode() {
        #expect(JSONValue.string("\u{01}").canonicalString == #""\u0001""#)
    }

    @Test("parses and re-encodes to the same canonical bytes", arguments: [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        #"[1,-2,3.5,1e10,"\u00e9\ud83d\ude00"]"#,
        #""""#,
    ])
    func roundTrip(_ text: String) throws {
        let v = try JSONValue(parsing: text)
        let again = try JSONValue(parsing: v.canonicalString)
        #expect(again == v)
        #expect(again.canonicalString == v.canonicalString)
    }

    @Test func numbersThatAreNotIntegersKeepTheirLexeme() throws {
        #expect(try JSONValue(parsing: "3.50") == .number("3.50"))
        #expect(try JSONValue(parsing: "12") == .int(12))
        #expect(try JSONValue(parsing: "99999999999999999999") == .number("99999999999999999999"))
    }

    @Test("refuses what a lenient decoder accepts", arguments: [
        (#"{"a":1,"a":2}"#, "duplicate-key"),
        (#"{"a":1} x"#, "trailing-content"),
        (#"{"a":1,}"#, "unexpected-character"),
        (#"[01]"#, "unexpected-character"),
        (#"01"#, "trailing-content"),
        (#""\ud800""#, "invalid-escape"),
        (#"{"a":"#, "truncated"),
        ("\"a\u{01}\"", "control-character"),
        ("nul", "truncated"),
    ])
    func refusesMalformedInput(_ text: String, _ code: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            (error as? JSONParsingError)?.code == code
        }
    }

    @Test func refusesInvalidUTF8() {
        #expect {
            try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22])
        } throws: { ($0 as? JSONParsingError)?.code == "invalid-utf8" }
    }

    @Test func refusesNestingBeyondTheLimit() throws {
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONParsingError.self) { try JSONValue(parsing: deep) }
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try JSONValue(parsing: ok)
    }

    @Test func refusesInputLargerThanTheLimitBeforeParsing() {
        #expect {
            try JSONValue(parsing: "[1,2,3]", limits: .init(maximumBytes: 4))
        } throws: { ($0 as? JSONParsingError)?.code == "too-large" }
    }

    @Test func errorsNeverQuoteTheInput() {
        do {
            _ = try JSONValue(parsing: #"{"name":"Secret Person","name":1}"#)
            Issue.record("expected a failure")
        } catch {
            #expect(!"\(error)".contains("Secret"))
        }
    }
}
