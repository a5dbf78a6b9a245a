import Foundation

/// This process's memory, from `/proc/self/status` (Linux; 0 elsewhere).
public enum ProcessMemory {
    /// The resident set size now, in megabytes.
    public static func residentMegabytes() -> Int { field("VmRSS:") }
    /// The largest resident set size so far, in megabytes.
    public static func peakMegabytes() -> Int { field("VmHWM:") }

    static func field(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
            let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}
