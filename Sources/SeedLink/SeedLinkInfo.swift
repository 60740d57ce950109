public import SeismicCore

/// Answers to `INFO` requests: a small XML document (the element and attribute names of the
/// SeisComP/ringserver SeedLink 3 INFO XML that ObsPy's `Client.get_info` reads), cut into
/// 512-byte miniSEED TEXT records sent as `SLINFO` frames.
public enum SeedLinkInfo {
    /// Text bytes per INFO record: 512 − 48 (fixed header) − 8 (Blockette 1000).
    public static let textBytesPerRecord = 456

    /// A station the server offers, with its streams.
    public struct Station: Sendable, Equatable {
        public var network: String
        public var station: String
        public var beginSequence: Int
        public var endSequence: Int
        public var streams: [Stream]

        public init(network: String, station: String, beginSequence: Int, endSequence: Int, streams: [Stream]) {
            self.network = network
            self.station = station
            self.beginSequence = beginSequence
            self.endSequence = endSequence
            self.streams = streams
        }
    }

    public struct Stream: Sendable, Equatable {
        public var location: String
        public var channel: String
        public var beginTime: Timestamp
        public var endTime: Timestamp

        public init(location: String, channel: String, beginTime: Timestamp, endTime: Timestamp) {
            self.location = location
            self.channel = channel
            self.beginTime = beginTime
            self.endTime = endTime
        }
    }

    /// The XML answering `INFO level`, or nil for an unsupported level (the server then
    /// answers `ERROR`). Levels: `ID`, `CAPABILITIES`, `STATIONS`, `STREAMS`.
    public static func xml(level: String, software: String, organization: String, started: Timestamp,
                           stations: [Station]) -> String? {
        let head = "<?xml version=\"1.0\"?>\n<seedlink software=\"\(escape(software))\" organization=\"\(escape(organization))\" started=\"\(time(started))\""
        switch level {
        case "ID":
            return head + "/>\n"
        case "CAPABILITIES":
            let caps = ["dialup", "multistation", "window-extraction", "info:id", "info:capabilities", "info:stations",
                        "info:streams"]
            return head + ">\n" + caps.map { "<capability name=\"\($0)\"/>\n" }.joined() + "</seedlink>\n"
        case "STATIONS", "STREAMS":
            var out = head + ">\n"
            for s in stations {
                out += "<station name=\"\(escape(s.station))\" network=\"\(escape(s.network))\" description=\"QuakeWarn feed\""
                    + " begin_seq=\"\(SeedLinkCommand.hex(s.beginSequence))\" end_seq=\"\(SeedLinkCommand.hex(s.endSequence))\""
                if level == "STATIONS" {
                    out += "/>\n"
                    continue
                }
                out += " stream_check=\"enabled\">\n"
                for st in s.streams {
                    out += "<stream location=\"\(escape(st.location))\" seedname=\"\(escape(st.channel))\" type=\"D\""
                        + " begin_time=\"\(time(st.beginTime))\" end_time=\"\(time(st.endTime))\" begin_recno=\"0\""
                        + " end_recno=\"0\" gap_check=\"disabled\" gap_treshold=\"0\"/>\n"
                }
                out += "</station>\n"
            }
            return out + "</seedlink>\n"
        default:
            return nil
        }
    }

    /// `YYYY/MM/DD hh:mm:ss.ffff`, the time format of SeedLink 3 INFO XML.
    static func time(_ t: Timestamp) -> String {
        let c = t.components
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(c.year, 4))/\(pad(c.month, 2))/\(pad(c.day, 2)) \(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)).\(pad(c.nanosecond / 100_000, 4))"
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// Packs text into 512-byte big-endian miniSEED 2 TEXT records (encoding 0, Blockette 1000,
    /// no sampling rate), stream `SL.INFO..LOG`, stamped `time`. An empty text gives one record
    /// without text.
    public static func textRecords(_ text: String, time: Timestamp) -> [[UInt8]] {
        let bytes = Array(text.utf8)
        var records: [[UInt8]] = []
        var offset = 0
        repeat {
            let chunk = Array(bytes[offset..<min(offset + textBytesPerRecord, bytes.count)])
            records.append(textRecord(chunk, sequence: records.count + 1, time: time))
            offset += textBytesPerRecord
        } while offset < bytes.count
        return records
    }

    static func textRecord(_ text: [UInt8], sequence: Int, time: Timestamp) -> [UInt8] {
        var r = [UInt8](repeating: 0, count: 512)
        let seq = String(sequence % 1_000_000)
        let seqField = String(repeating: "0", count: 6 - seq.count) + seq
        func put(_ s: String, at offset: Int, width: Int) {
            let b = Array(s.utf8)
            for i in 0..<width { r[offset + i] = i < b.count ? b[i] : 0x20 }
        }
        func u16(_ v: Int, at offset: Int) {
            r[offset] = UInt8((v >> 8) & 0xFF)
            r[offset + 1] = UInt8(v & 0xFF)
        }
        put(seqField, at: 0, width: 6)
        r[6] = 0x44  // D
        r[7] = 0x20
        put("INFO", at: 8, width: 5)
        put("", at: 13, width: 2)
        put("LOG", at: 15, width: 3)
        put("SL", at: 18, width: 2)
        let c = time.components
        let jan1 = Timestamp(year: c.year, month: 1, day: 1) ?? time
        let doy = Int(time.nanoseconds(since: jan1) / 86_400_000_000_000) + 1
        u16(c.year, at: 20)
        u16(doy, at: 22)
        r[24] = UInt8(c.hour)
        r[25] = UInt8(c.minute)
        r[26] = UInt8(c.second)
        u16(c.nanosecond / 100_000, at: 28)
        u16(text.count, at: 30)
        // rate factor/multiplier 0 (no sampling rate), flags 0, one blockette, no time correction
        r[39] = 1
        u16(56, at: 44)
        u16(48, at: 46)
        u16(1000, at: 48)
        u16(0, at: 50)
        r[52] = 0  // encoding: ASCII text
        r[53] = 1  // big-endian
        r[54] = 9  // 2^9 = 512
        for (i, b) in text.enumerated() { r[56 + i] = b }
        return r
    }

    /// The text of a TEXT record made by ``textRecords(_:time:)`` or by a SeedLink server
    /// (sample count at byte 30, data offset at byte 44, big-endian); nil if the header is not
    /// plausible.
    public static func text(ofRecord record: [UInt8]) -> String? {
        guard record.count >= 48 else { return nil }
        let count = Int(record[30]) << 8 | Int(record[31])
        let offset = Int(record[44]) << 8 | Int(record[45])
        guard offset >= 48, offset + count <= record.count else { return nil }
        return String(decoding: record[offset..<(offset + count)], as: UTF8.self)
    }
}
