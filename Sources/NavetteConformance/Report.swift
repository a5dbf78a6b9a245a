/// What a conformance run found for one requirement.
public enum Verdict: Hashable, Sendable {
    /// Every check of the requirement held.
    case passed
    /// A check failed; the text says which, and what the server answered.
    case failed(String)
    /// The run could not exercise it (an admin action a codes file cannot do).
    case notRun(String)

    public var isFailure: Bool {
        if case .failed = self { return true }
        return false
    }
}

/// The outcome of a conformance run: one verdict per requirement id.
public struct ConformanceReport: Sendable {
    /// By requirement id, sorted.
    public var verdicts: [(id: String, verdict: Verdict)]

    public var failed: [String] { verdicts.filter { $0.verdict.isFailure }.map(\.id) }
    public var passed: [String] { verdicts.filter { $0.verdict == .passed }.map(\.id) }
    public var notRun: [String] {
        verdicts.filter { if case .notRun = $0.verdict { true } else { false } }.map(\.id)
    }

    public func verdict(_ id: String) -> Verdict? { verdicts.first { $0.id == id }?.verdict }

    /// One line per requirement, then a summary line.
    public var text: String {
        var lines = verdicts.map { id, verdict -> String in
            switch verdict {
            case .passed: "pass      \(id)"
            case .failed(let why): "FAIL      \(id)  \(why)"
            case .notRun(let why): "not run   \(id)  \(why)"
            }
        }
        lines.append(
            "\(passed.count) passed, \(failed.count) failed, \(notRun.count) not run, of \(verdicts.count) requirements"
                + (failed.isEmpty ? "" : ": " + failed.joined(separator: " ")))
        return lines.joined(separator: "\n")
    }
}
