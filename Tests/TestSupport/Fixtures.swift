import Foundation

/// Locates the test fixtures committed under `Tests/Fixtures/` (tests read nothing outside the repository).
public enum Fixtures {
    /// Absolute path of `Tests/Fixtures`.
    public static let directory: String = {
        // This file is Tests/TestSupport/Fixtures.swift.
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }()

    /// Absolute path of `Tests/Fixtures/<relative>`.
    public static func path(_ relative: String) -> String { directory + "/" + relative }
}
