import Foundation
import Testing

/// `quakewarn bench`: structure of the budget report and the exit-status contract. Timing values
/// are machine-dependent (and debug builds are slow), so the test checks consistency, not speed.
@Suite("quakewarn bench")
struct BenchCommandTests {
    @Test("--json prints one line per stage; exit 1 exactly when a stage's p99 is over its budget")
    func jsonReportAndVerdict() throws {
        let run = try CLIRunner.run(["bench", "--packets", "400", "--json"])
        let lines = run.stdoutLines
        #expect(lines.count == 3, "stdout: \(run.stdout) stderr: \(run.stderr)")
        var anyOver = false
        var stages: [String] = []
        var packetCount = 0
        for line in lines {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let name = try #require(obj["stage"] as? String)
            stages.append(name)
            let budget = try #require(obj["budgetMicroseconds"] as? Double)
            let p50 = try #require(obj["p50Microseconds"] as? Double)
            let p99 = try #require(obj["p99Microseconds"] as? Double)
            let max = try #require(obj["maxMicroseconds"] as? Double)
            let within = try #require(obj["withinBudget"] as? Bool)
            packetCount += try #require(obj["packets"] as? Int)
            #expect(p50 > 0 && p50 <= p99 && p99 <= max, "\(name): percentiles out of order")
            #expect(within == (p99 <= budget), "\(name): verdict disagrees with p99 \(p99) vs budget \(budget)")
            if !within { anyOver = true }
        }
        #expect(stages == ["miniSEED record decode", "filters + picker + station parameters, 3 channels (noise)",
                           "filters + picker + station parameters, 3 channels (event: P to P+30 s)"])
        #expect(packetCount == 800, "400 decode packets + 400 station packets split into noise and event")
        #expect(run.status == (anyOver ? 1 : 0))
    }

    @Test("a bad --packets value exits 2 with a one-line reason")
    func badPackets() throws {
        let run = try CLIRunner.run(["bench", "--packets", "5"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--packets"))
        #expect(run.stdout.isEmpty)
    }
}
