/// Where each panel goes for a given screen size.
public struct ExplorerLayout: Equatable, Sendable {
    public static let minWidth = 80
    public static let minHeight = 24
    /// From this width the selected layer's histogram shares its row with the grid of all layers.
    public static let wideWidth = 160

    public var width: Int
    public var height: Int
    public var tooSmall: Bool
    public var header = Rect(x: 0, y: 0, w: 0, h: 0)
    public var histogram = Rect(x: 0, y: 0, w: 0, h: 0)
    public var table = Rect(x: 0, y: 0, w: 0, h: 0)
    public var distance = Rect(x: 0, y: 0, w: 0, h: 0)
    public var loss = Rect(x: 0, y: 0, w: 0, h: 0)
    public var accuracy = Rect(x: 0, y: 0, w: 0, h: 0)
    public var keys = Rect(x: 0, y: 0, w: 0, h: 0)
    /// The quantized layers the table lists at once (a page; below its title and column heads).
    public var tableRows: Int { max(0, table.h - 2) }

    /// Top to bottom: header (2 rows), weight histogram, layer table, then distance | loss | accuracy,
    /// key bar. The histogram and the bottom row share what the table leaves.
    /// `extraRows`: the full-precision layers the table lists after the quantized ones.
    public init(width: Int, height: Int, layerCount: Int, extraRows: Int = 0) {
        self.width = width; self.height = height
        tooSmall = width < Self.minWidth || height < Self.minHeight
        if tooSmall { return }
        let all = Rect(x: 0, y: 0, w: width, h: height)
        var rest: Rect
        (header, rest) = all.takeTop(2)
        (keys, rest) = rest.takeBottom(1)
        // Table: title + column header + one row per layer, but never more than a third of the screen.
        let tableHeight = min(max(3, layerCount + extraRows + 2), max(3, height / 3))
        let remaining = rest.h - tableHeight
        let histRows = max(6, (remaining * 11) / 20)
        (histogram, rest) = rest.takeTop(histRows)
        (table, rest) = rest.takeTop(tableHeight)
        // Bottom row: distance panel about 30%, the two curves share the rest.
        let dw = max(24, width * 3 / 10)
        (distance, rest) = rest.takeLeft(dw)
        let lw = rest.w / 2
        (loss, accuracy) = rest.takeLeft(lw)
    }
}
