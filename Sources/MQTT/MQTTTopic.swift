/// Topic name and topic filter rules of MQTT 3.1.1 §4.7.
///
/// Both are UTF-8 strings of 1…65,535 bytes without U+0000 ([MQTT-4.7.3-1/2/3]); levels are
/// separated by '/', and empty levels are allowed ("a//b", "/a" are valid). Topics starting with
/// '$' are legal here; brokers give them special meaning (§4.7.2).
public enum MQTTTopic {
    /// Checks a topic name as used in PUBLISH and Will messages: no wildcard characters
    /// ([MQTT-3.3.2-2], [MQTT-4.7.1-1]). Returns the reason it is invalid, or nil if valid.
    /// The length limit and U+0000 are checked here too so the function stands on its own.
    /// - Complexity: O(n) in the UTF-8 length.
    public static func topicNameViolation(_ name: String) -> String? {
        let utf8 = name.utf8
        if utf8.isEmpty { return "topic name is empty ([MQTT-4.7.3-1])" }
        if utf8.count > 65_535 { return "topic name is \(utf8.count) bytes, more than 65535" }
        for (index, byte) in utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "+"), UInt8(ascii: "#"):
                return "topic name \(quoted(name)) has wildcard '\(Character(Unicode.Scalar(byte)))' at byte \(index)"
            case 0:
                return "topic name contains U+0000 at byte \(index)"
            default:
                continue
            }
        }
        return nil
    }

    /// Checks a topic filter as used in SUBSCRIBE/UNSUBSCRIBE: '#' only as the whole last level
    /// ([MQTT-4.7.1-2]), '+' only as a whole level ([MQTT-4.7.1-3]). Returns the reason it is
    /// invalid, or nil if valid.
    /// - Complexity: O(n) in the UTF-8 length.
    public static func topicFilterViolation(_ filter: String) -> String? {
        let bytes = Array(filter.utf8)
        if bytes.isEmpty { return "topic filter is empty ([MQTT-4.7.3-1])" }
        if bytes.count > 65_535 { return "topic filter is \(bytes.count) bytes, more than 65535" }
        let slash = UInt8(ascii: "/")
        for index in bytes.indices {
            let byte = bytes[index]
            let startsLevel = index == 0 || bytes[index - 1] == slash
            let endsLevel = index == bytes.count - 1 || bytes[index + 1] == slash
            switch byte {
            case UInt8(ascii: "#"):
                if !startsLevel || index != bytes.count - 1 {
                    return "topic filter \(quoted(filter)): '#' at byte \(index) is not the whole last level"
                }
            case UInt8(ascii: "+"):
                if !startsLevel || !endsLevel {
                    return "topic filter \(quoted(filter)): '+' at byte \(index) is not a whole level"
                }
            case 0:
                return "topic filter contains U+0000 at byte \(index)"
            default:
                continue
            }
        }
        return nil
    }

    /// Whether `topicName` matches `filter` under the rules of §4.7: '+' matches exactly one
    /// level, '#' the parent level and any number of child levels; a filter starting with a
    /// wildcard does not match topic names starting with '$' ([MQTT-4.7.2-1]).
    /// Both arguments are assumed valid (see the `…Violation` functions); invalid ones give false.
    public static func matches(topicName: String, filter: String) -> Bool {
        guard topicNameViolation(topicName) == nil, topicFilterViolation(filter) == nil else { return false }
        let nameLevels = topicName.split(separator: "/", omittingEmptySubsequences: false)
        let filterLevels = filter.split(separator: "/", omittingEmptySubsequences: false)
        if topicName.hasPrefix("$"), let first = filterLevels.first, first == "+" || first == "#" {
            return false
        }
        var index = 0
        while index < filterLevels.count {
            let level = filterLevels[index]
            if level == "#" { return true }
            guard index < nameLevels.count else { return false }
            if level != "+" && level != nameLevels[index] { return false }
            index += 1
        }
        return index == nameLevels.count
    }

    private static func quoted(_ text: String) -> String {
        let limit = 80
        return text.count > limit ? "\"\(text.prefix(limit))…\"" : "\"\(text)\""
    }
}
