import MQTT
import Testing

/// Examples from MQTT 3.1.1 §4.7.1 and §4.7.2, checked against the functions.
@Suite("MQTT topic rules")
struct MQTTTopicTests {
    @Test("valid topic filters (§4.7.1.2/3 examples)", arguments: ["#", "sport/tennis/#", "sport/#", "+", "+/tennis/#", "sport/+/player1", "/+", "+/+", "a//b", "$SYS/#", "/"])
    func validFilters(_ filter: String) {
        #expect(MQTTTopic.topicFilterViolation(filter) == nil)
    }

    @Test("invalid topic filters", arguments: ["", "sport/tennis#", "sport/tennis/#/ranking", "sport+", "a/+b", "#/a", "a/b#", "++", "a\u{0}b"])
    func invalidFilters(_ filter: String) {
        #expect(MQTTTopic.topicFilterViolation(filter) != nil)
    }

    @Test("topic names: wildcards are not allowed", arguments: [("a/b", true), ("/", true), ("a/+", false), ("#", false), ("", false), ("$SYS/x", true), ("地震", true)])
    func topicNames(_ name: String, valid: Bool) {
        #expect((MQTTTopic.topicNameViolation(name) == nil) == valid)
    }

    @Test("matching (§4.7.1, §4.7.2)")
    func matching() {
        let cases: [(String, String, Bool)] = [
            ("sport/tennis/player1", "sport/tennis/player1/#", true),
            ("sport/tennis/player1/ranking", "sport/tennis/player1/#", true),
            ("sport/tennis/player1/score/wimbledon", "sport/tennis/player1/#", true),
            ("sport", "sport/#", true),
            ("sport/tennis/player1", "sport/tennis/+", true),
            ("sport/tennis/player1/ranking", "sport/tennis/+", false),
            ("sport", "sport/+", false),
            ("sport/", "sport/+", true),
            ("/finance", "+/+", true),
            ("/finance", "/+", true),
            ("/finance", "+", false),
            ("$SYS/monitor/Clients", "#", false),
            ("$SYS/monitor/Clients", "+/monitor/Clients", false),
            ("$SYS/monitor/Clients", "$SYS/#", true),
            ("$SYS/monitor/Clients", "$SYS/monitor/+", true),
            ("a/b", "a/b", true),
            ("a/b", "a/c", false),
            ("a/b/c", "a/b", false),
        ]
        for (name, filter, expected) in cases {
            #expect(MQTTTopic.matches(topicName: name, filter: filter) == expected, "\(name) vs \(filter)")
        }
    }
}
