/// A minimal streaming XML writer: elements with text content, two-space indentation, escaping.
///
/// Escaping (XML 1.0 §2.4, §2.11): `&` `<` `>` `"` `'` become entity references; carriage return
/// and tab become character references so they survive attribute/line-end normalisation; control
/// characters that XML 1.0 forbids (U+0000–U+0008, U+000B, U+000C, U+000E–U+001F, U+FFFE, U+FFFF)
/// are replaced by U+FFFD, so the output is always well-formed whatever the input string.
struct XMLWriter {
    private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    private var open: [String] = []

    /// Opens `<name attr="value"…>` on its own line.
    mutating func start(_ name: String, attributes: [(String, String)] = []) {
        text += indentation + "<" + name
        for (key, value) in attributes { text += " " + key + "=\"" + Self.escape(value) + "\"" }
        text += ">\n"
        open.append(name)
    }

    /// Closes the innermost open element.
    mutating func end() {
        guard let name = open.popLast() else { return }
        text += indentation + "</" + name + ">\n"
    }

    /// `<name>escaped text</name>` on one line.
    mutating func element(_ name: String, _ value: String) {
        text += indentation + "<" + name + ">" + Self.escape(value) + "</" + name + ">\n"
    }

    private var indentation: String { String(repeating: "  ", count: open.count) }

    /// Escapes text for element content and double-quoted attribute values.
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            case "\n": out += "\n"
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
