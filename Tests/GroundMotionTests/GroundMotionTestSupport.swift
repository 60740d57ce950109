import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

/// Fixture access for the GroundMotion tests (files under Tests/Fixtures only).
enum GMFixtures {
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `Tests/Fixtures/groundmotion/<name>` as a JSON object.
    static func json(_ name: String) throws -> [String: Any] {
        let path = Fixtures.path("groundmotion/" + name)
        guard let data = FileManager.default.contents(atPath: path) else { throw Missing(description: "cannot read \(path)") }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Missing(description: "\(path) is not a JSON object")
        }
        return object
    }

    /// The single continuous segment of `Tests/Fixtures/mseed/<name>`.
    static func segment(_ name: String) throws -> SampleBlock {
        let volume = try MiniSEEDReader.read(path: Fixtures.path("mseed/" + name))
        guard volume.segments.count == 1, let block = volume.segments.first else {
            throw Missing(description: "\(name): expected one segment, got \(volume.segments.count)")
        }
        return block
    }
}

extension Dictionary where Key == String, Value == Any {
    func object(_ key: String) throws -> [String: Any] {
        guard let value = self[key] as? [String: Any] else { throw GMFixtures.Missing(description: "no object '\(key)'") }
        return value
    }

    func double(_ key: String) throws -> Double {
        guard let value = self[key] as? NSNumber else { throw GMFixtures.Missing(description: "no number '\(key)'") }
        return value.doubleValue
    }

    func int(_ key: String) throws -> Int {
        guard let value = self[key] as? NSNumber else { throw GMFixtures.Missing(description: "no integer '\(key)'") }
        return value.intValue
    }

    func doubles(_ key: String) throws -> [Double] {
        guard let values = self[key] as? [NSNumber] else { throw GMFixtures.Missing(description: "no number array '\(key)'") }
        return values.map(\.doubleValue)
    }

    func array(_ key: String) throws -> [[String: Any]] {
        guard let values = self[key] as? [[String: Any]] else { throw GMFixtures.Missing(description: "no object array '\(key)'") }
        return values
    }
}

/// `|a − b| ≤ tolerance · scale`.
func close(_ a: Double, _ b: Double, relativeTo scale: Double, tolerance: Double) -> Bool {
    abs(a - b) <= tolerance * abs(scale)
}
