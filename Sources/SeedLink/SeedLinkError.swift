/// A SeedLink protocol, feed or state-file failure, with context.
public struct SeedLinkError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure (a struct so that codes can be added without breaking `switch`es).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A command line that is not a SeedLink 3.1 command or has bad arguments.
        public static let invalidCommand = Code("invalidCommand")
        /// A `SELECT` pattern that is not `[!][LL]CCC[.T]`.
        public static let invalidSelector = Code("invalidSelector")
        /// A time that is not `YYYY,MM,DD,hh,mm,ss`.
        public static let invalidTime = Code("invalidTime")
        /// Files given to the feed cannot be read or hold no usable record.
        public static let feedInput = Code("feedInput")
        /// A record could not be repacked into 512-byte records.
        public static let repack = Code("repack")
        /// The state file cannot be read, parsed or written.
        public static let stateFile = Code("stateFile")
        /// The server answered something unexpected during the handshake.
        public static let handshake = Code("handshake")
        /// Connecting or binding failed.
        public static let network = Code("network")

        public var description: String { name }
    }

    public var code: Code
    /// Human-readable reason with the offending value.
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}
