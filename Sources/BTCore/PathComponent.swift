import Foundation

/// A name read from a file that becomes one entry of a folder the user named (a sweep's run folder): it must stay
/// one path component, whatever the file says, so nothing built from it lands outside that folder.
public enum PathComponent {
    /// The longest name a Linux filesystem takes for one entry.
    public static let maxBytes = 255

    /// Why `name` is not one plain path component (empty, `.`, `..`, a `/`, a NUL or a control character, over
    /// 255 bytes), or nil when it is one.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "it is empty" }
        if name == "." || name == ".." { return "'\(name)' names a folder, not an entry in it" }
        if name.utf8.count > maxBytes { return "it is \(name.utf8.count) bytes, over the \(maxBytes) a folder entry may have" }
        if name.contains("/") { return "it has a '/' (a name must be one folder entry)" }
        if name.unicodeScalars.contains(where: TerminalText.isControl) { return "it has a control character" }
        return nil
    }
}
