extension Array {
    /// An empty array with room for at least `capacity` elements, whose memory has been written
    /// once (with `filler`). A reserved but untouched buffer costs a page fault (the kernel
    /// zeroing a fresh 4 KiB page) at the first write to each page, i.e. on the processing path
    /// while a stream's history buffers first fill up; in `quakewarn bench scale` those faults were
    /// over half of the profile. Written here, the cost is paid once, at construction.
    public init(emptyPrefaulted capacity: Int, filler: Element) {
        self.init(repeating: filler, count: Swift.max(0, capacity))
        removeAll(keepingCapacity: true)
    }
}
