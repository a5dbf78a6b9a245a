import Foundation

/// Reads the process environment (the one place NavetteTesting does).
public enum ProcessEnvironment {
    public static func value(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
}
