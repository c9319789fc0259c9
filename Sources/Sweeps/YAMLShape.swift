import BTCore
internal import CYaml

/// A YAML text's shape, measured before Yams builds it: Yams' composer recurses once per level of nesting (5,000
/// levels overflow the stack) and shares an aliased node without counting what it stands for (a 1 MB text can
/// stand for gigabytes). libyaml's event parser keeps its own stacks on the heap, so walking its events bounds
/// both in one pass, in time and memory linear in the text.
enum YAMLShape {
    /// Levels of nested lists and mappings; a sweep spec needs three.
    static let maxDepth = 64

    /// Throws a one-line error when the text nests deeper than `maxDepth` or its aliases expand it past
    /// `maxExpandedBytes`. Syntax errors are left to Yams, which words them with their line and column.
    static func check(_ text: String, maxExpandedBytes: Int) throws {
        var bytes = Array(text.utf8)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw BTError("out of memory reading YAML") }
        defer { yaml_parser_delete(&parser) }
        // What an anchored node stands for: its expanded bytes and the levels it nests.
        var anchors: [String: (bytes: Int, depth: Int)] = [:]
        // The collections open at this point, each with its anchor, its expanded bytes and its deepest child.
        var open: [(anchor: String?, bytes: Int, depth: Int)] = []
        var expanded = 0
        func tooBig() -> BTError {
            BTError("its aliases expand it to more than \(maxExpandedBytes >> 20) MB; write the values out")
        }
        // Adds a finished node (scalar, alias or closed collection) to its parent.
        func add(bytes: Int, depth: Int, anchor: String?) throws {
            if open.count + depth > maxDepth { throw BTError("it nests more than \(maxDepth) levels deep") }
            if let anchor { anchors[anchor] = (bytes, depth) }
            guard !open.isEmpty else { return }
            open[open.count - 1].bytes += bytes
            open[open.count - 1].depth = max(open[open.count - 1].depth, depth)
        }
        func name(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? { p.map { String(cString: $0) } }
        try bytes.withUnsafeMutableBufferPointer { buf in
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_SCALAR_EVENT:
                    let n = event.data.scalar.length + 1
                    expanded += n
                    if expanded > maxExpandedBytes { throw tooBig() }
                    try add(bytes: n, depth: 0, anchor: name(event.data.scalar.anchor))
                case YAML_ALIAS_EVENT:
                    // An unknown anchor is Yams' error to report.
                    guard let a = name(event.data.alias.anchor), let target = anchors[a] else { return }
                    expanded += target.bytes
                    if expanded > maxExpandedBytes { throw tooBig() }
                    try add(bytes: target.bytes, depth: target.depth, anchor: nil)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT ? name(event.data.sequence_start.anchor)
                        : name(event.data.mapping_start.anchor)
                    open.append((anchor, 1, 0))
                    if open.count > maxDepth { throw BTError("it nests more than \(maxDepth) levels deep") }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let done = open.popLast() else { return }
                    try add(bytes: done.bytes, depth: done.depth + 1, anchor: done.anchor)
                default:
                    continue
                }
            }
        }
    }
}
