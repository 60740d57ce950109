// The PM QoS request both daemons (ingest, relay) make at start when configured
// (`cpuWakeupLatencyMicroseconds`), with the log line an operator looks for.

public import Logging
public import SeismicCore

extension CPULatencyRequest {
    /// The request for `microseconds`, logged at info level when granted; nil, with a warning
    /// naming the key and the reason, when the kernel refuses it (the daemon runs on without it).
    /// Keep the returned value for as long as the daemon runs: the request ends when it is freed.
    public static func hold(microseconds: Int, logger: Logger) -> CPULatencyRequest? {
        let (request, problem) = CPULatencyRequest.request(microseconds: microseconds)
        if let problem {
            logger.warning("no CPU wake-up latency limit", metadata: ["cpuWakeupLatencyMicroseconds": "\(microseconds)", "reason": "\(problem)"])
        } else {
            logger.info("CPU wake-up latency limit held while running", metadata: ["microseconds": "\(microseconds)"])
        }
        return request
    }
}
