/// The bytes an incremental decoder has received but not yet consumed, with stream offsets.
///
/// Decoders read `bytes[head...]`, advance ``head`` past what they consumed, and ``append(_:)``
/// new input. Consumed bytes are dropped lazily (when at least half the storage or 64 KiB is
/// consumed), so appending and consuming are amortised O(1) per byte and the storage keeps its
/// capacity.
public struct ByteStreamBuffer: Sendable {
    /// Received bytes; those before ``head`` are consumed.
    public private(set) var bytes: [UInt8] = []
    /// Index in ``bytes`` of the next byte to examine (`0...bytes.count`).
    public var head = 0
    /// Stream offset of `bytes[0]`.
    private var baseOffset = 0

    public init() {}

    /// Bytes received but not yet consumed.
    public var unconsumedCount: Int { bytes.count - head }

    /// Stream offset of the next byte to be examined (bytes consumed so far).
    public var consumedByteCount: Int { baseOffset + head }

    /// Stream offset of `bytes[index]`.
    public func streamOffset(ofIndex index: Int) -> Int { baseOffset + index }

    /// Adds bytes received from the stream.
    public mutating func append(_ newBytes: some Collection<UInt8>) {
        if head > 0, head >= 65_536 || head * 2 >= bytes.count {
            bytes.removeSubrange(0..<head)
            baseOffset += head
            head = 0
        }
        bytes.append(contentsOf: newBytes)
    }

    /// Drops everything buffered; stream offsets keep counting.
    public mutating func reset() {
        baseOffset += bytes.count
        bytes.removeAll(keepingCapacity: true)
        head = 0
    }
}
