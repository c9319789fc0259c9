/// Layer names for a column narrower than the longest of them, every layer still told apart. Names without a dot
/// (VGG-6's `conv1`) are short already and stay as they are.
enum LayerNames {
    /// A dotted path with each part cut to its first letter and its number: `layer3.8.conv2` is `l3.8.c2`
    /// (torchvision's ResNet names: stage, block, conv).
    static func abbreviated(_ name: String) -> String {
        guard name.contains(".") else { return name }
        return name.split(separator: ".", omittingEmptySubsequences: false).map { part -> String in
            guard let first = part.first, first.isLetter else { return String(part) }
            return String(first) + part.drop { !$0.isNumber }
        }.joined(separator: ".")
    }

    /// The names as a column `width` characters wide shows them: whole when they all fit; else abbreviated when
    /// that tells them apart; and what is still too long keeps its right end after `ellipsis` (where paths differ).
    static func fitting(_ names: [String], width: Int, ellipsis: String) -> [String] {
        guard names.contains(where: { $0.count > width }) else { return names }
        let short = names.map(abbreviated)
        let base = Set(short).count == Set(names).count ? short : names
        let keep = max(1, width - ellipsis.count)
        return base.map { $0.count <= width ? $0 : ellipsis + String($0.suffix(keep)) }
    }

    /// The names abbreviated when that tells them apart, else as they are.
    static func abbreviatedIfDistinct(_ names: [String]) -> [String] {
        let short = names.map(abbreviated)
        return Set(short).count == Set(names).count ? short : names
    }
}
