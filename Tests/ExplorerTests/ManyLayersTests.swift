import Explorer
import Quantizers
import Records
import XCTest

/// CIFAR ResNets (issue 33): 18 to 56 quantized layers named `layer3.8.conv2`. At 80x24 the table pages (its title
/// says which layers it lists, `{` `}` turn the page), the grid shows a page of cells and says which, names are
/// abbreviated (`l3.8.c2`) where the full ones do not fit; at 200x60 the full names and more cells.
final class ManyLayersTests: XCTestCase {
    let sizes = [(80, 24), (200, 60)]

    /// The table's rows on screen: (name as shown, whole row), below its title and column heads.
    func tableRows(_ c: Canvas, _ w: Int, _ h: Int, layers: Int, fullPrecision: Int) -> [(name: String, row: String)] {
        let t = ExplorerLayout(width: w, height: h, layerCount: layers, extraRows: fullPrecision).table
        return (t.y + 2..<t.maxY).map { y in
            let row = String(String.UnicodeScalarView(c.row(y).unicodeScalars.prefix(t.w)))
            let name = row.dropFirst().prefix { $0 != " " }
            return (String(name), row.replacingTrailingSpaces())
        }.filter { !$0.name.isEmpty }
    }

    /// Every layer of a ResNet-20 and a ResNet-56 can be selected, and then its row is on screen with a name that
    /// is its own (the full name or its abbreviation, no other layer's), all its columns to the last one, and the
    /// histogram is its histogram.
    func testEveryLayerIsReachableWithAnUnambiguousName() {
        for depth in [20, 56] {
            let model = Fixture.resnet(depth: depth)  // BT at the last record: its three scales make the row widest
            let names = Fixture.resnetLayers(depth: depth).map(\.name)
            XCTAssertEqual(names.count, depth - 2)
            for (w, h) in sizes {
                var seen: [String: String] = [:]
                var view = ExplorerViewState(mode: .live)
                view.screen = ScreenSize(width: w, height: h)
                for i in 0..<names.count {
                    let c = Fixture.render(model, w, h, view: view)
                    let rows = tableRows(c, w, h, layers: names.count, fullPrecision: 2)
                    let selected = rows.first { $0.row.hasPrefix("▸") }
                    guard let selected else { XCTFail("\(depth) \(w)x\(h) layer \(i): no selected row\n\(c.text)"); break }
                    // Its own name, whole or abbreviated; the same for every layer only once.
                    XCTAssertTrue(selected.name == names[i] || selected.name == abbreviation(names[i]), "\(selected.name) for \(names[i])")
                    if let other = seen[selected.name] { XCTFail("\(selected.name) names both \(other) and \(names[i])") }
                    seen[selected.name] = names[i]
                    // The row holds its last column (dist, 0.410), and the histogram is the layer's.
                    XCTAssertTrue(selected.row.contains(".410"), "\(w)x\(h): \(selected.row)")
                    XCTAssertTrue(c.text.contains("weights \(names[i]) "), "\(w)x\(h) layer \(i)\n\(c.text)")
                    XCTAssertTrue(c.text.contains("[\(i + 1)/\(names.count)]"))
                    _ = ExplorerController.handle(.nextLayer, view: &view, model: model)
                }
                XCTAssertEqual(view.layer, 0, "Tab wraps around")
                // Full names where they fit (200 columns), abbreviated at 80 (a TWN run's narrower row fits them whole).
                XCTAssertEqual(Set(seen.keys), Set(w >= 200 ? names : names.map(abbreviation)), "\(depth) \(w)x\(h)")
            }
        }
    }

    /// The table lists a page of layers and says which; `}` and `{` turn the page (the first layer of the next
    /// page selected); a click on a row selects that row's layer.
    func testTheTablePagesAt80x24() {
        let model = Fixture.resnet(depth: 20)
        var view = ExplorerViewState(mode: .live)
        view.screen = ScreenSize(width: 80, height: 24)
        let rowsPerPage = ExplorerLayout(width: 80, height: 24, layerCount: 18, extraRows: 2).tableRows
        XCTAssertEqual(rowsPerPage, 6)
        let pages = [(0, "layers 1-6 of 18"), (6, "layers 7-12 of 18"), (12, "layers 13-18 of 18")]
        for (first, title) in pages {
            let c = Fixture.render(model, 80, 24, view: view)
            XCTAssertEqual(view.layer, first)
            XCTAssertTrue(c.text.contains("─ " + title + " ─"), c.text)
            let rows = tableRows(c, 80, 24, layers: 18, fullPrecision: 2).map(\.name)
            let expected = Fixture.resnetLayers(depth: 20)[first..<first + 6].map { abbreviation($0.name) }
            XCTAssertEqual(rows, Array(expected), c.text)
            XCTAssertTrue(c.row(23).contains("{}"), "the page keys are listed: \(c.row(23))")
            _ = ExplorerController.handle(.nextLayerPage, view: &view, model: model)
        }
        XCTAssertEqual(view.layer, 17, "past the last page: the last layer")
        _ = ExplorerController.handle(.prevLayerPage, view: &view, model: model)
        XCTAssertEqual(view.layer, 6)
        _ = ExplorerController.handle(.prevLayerPage, view: &view, model: model)
        _ = ExplorerController.handle(.prevLayerPage, view: &view, model: model)
        XCTAssertEqual(view.layer, 0)

        // A ResNet-56's last page.
        let deep = Fixture.resnet(depth: 56)
        var last = ExplorerViewState(mode: .live)
        last.layer = 53
        let c = Fixture.render(deep, 80, 24, view: last)
        XCTAssertTrue(c.text.contains("layers 49-54 of 54"), c.text)
        let rows = tableRows(c, 80, 24, layers: 54, fullPrecision: 2)
        XCTAssertEqual(Array(rows.map(\.name).prefix(6)), ["l3.6.c1", "l3.6.c2", "l3.7.c1", "l3.7.c2", "l3.8.c1", "l3.8.c2"])
        // A click on a row of this page selects that row's layer.
        let t = ExplorerLayout(width: 80, height: 24, layerCount: 54, extraRows: 2).table
        last.screen = ScreenSize(width: 80, height: 24)
        _ = ExplorerController.handle(.point(x: 3, y: t.y + 2 + 1), view: &last, model: deep)
        XCTAssertEqual(last.layer, 49)
    }

    /// The grid: at 80x24 (`g`) a page of cells, titled with the page; at 200x60 beside the selected layer a
    /// ResNet-20's every layer at once, and with `g` a ResNet-56's. Every cell's name is whole and its own.
    func testTheGridShowsAPageOfLayers() {
        func gridNames(_ c: Canvas, _ r: Rect) -> [String] {
            var out: [String] = []
            for y in r.y + 1..<r.maxY {
                let row = Array(c.row(y).unicodeScalars)[r.x..<r.maxX].map(Character.init)
                var i = 0
                while i < row.count {
                    if row[i] == "▸" || (row[i] == " " && i + 1 < row.count && row[i + 1] == "l" && (i == 0 || row[i - 1] == " ")) {
                        let name = String(row[(i + 1)...].prefix { $0 != " " })
                        if name.hasPrefix("l") && name.contains(".") { out.append(name) }
                        i += 1 + name.count
                    } else { i += 1 }
                }
            }
            return out
        }
        // 80x24, g: ResNet-20 in pages of 5.
        let m20 = Fixture.resnet(depth: 20)
        let names20 = Fixture.resnetLayers(depth: 20).map(\.name)
        var v = ExplorerViewState(mode: .live); v.grid = true
        var all: [String] = []
        let hist80 = ExplorerLayout(width: 80, height: 24, layerCount: 18, extraRows: 2).histogram
        for page in 0..<4 {
            v.layer = page * 5
            let c = Fixture.render(m20, 80, 24, view: v)
            let last = min(18, page * 5 + 5)
            XCTAssertTrue(c.text.contains("layers \(page * 5 + 1)-\(last) of 18, page \(page + 1)/4"), c.text)
            let shown = gridNames(c, hist80)
            XCTAssertEqual(shown, names20[(page * 5)..<last].map(abbreviation), c.text)
            all += shown
        }
        XCTAssertEqual(all.count, 18)

        // 200x60: beside the selected layer, all 18 of a ResNet-20 with full names where they fit.
        let wide = Fixture.render(m20, 200, 60)
        let h200 = ExplorerLayout(width: 200, height: 60, layerCount: 18, extraRows: 2).histogram
        let (_, right) = h200.takeLeft(h200.w * 11 / 20)
        let beside = Rect(x: right.x + 1, y: right.y, w: right.w - 1, h: right.h)
        XCTAssertTrue(wide.text.contains("─ all layers ─"), wide.text)
        XCTAssertEqual(gridNames(wide, beside), names20.map(abbreviation), wide.text)
        // ResNet-56 with g at 200x60: all 54 on one page.
        var g56 = ExplorerViewState(mode: .live); g56.grid = true
        let c56 = Fixture.render(Fixture.resnet(depth: 56), 200, 60, view: g56)
        XCTAssertTrue(c56.text.contains("─ all layers ─"), c56.text)
        XCTAssertEqual(gridNames(c56, h200), Fixture.resnetLayers(depth: 56).map { abbreviation($0.name) }, c56.text)
        // Beside the selected layer at 200x60: pages, the selected layer's shown.
        var sel = ExplorerViewState(mode: .live); sel.layer = 40
        let paged = Fixture.render(Fixture.resnet(depth: 56), 200, 60, view: sel)
        XCTAssertTrue(paged.text.range(of: #"layers \d+-\d+ of 54, page \d/\d"#, options: .regularExpression) != nil, paged.text)
        XCTAssertTrue(gridNames(paged, beside).contains("l3.2.c1"), paged.text)
    }

    /// The time-lapse of a deep layer at 80x24: its full name, and the table below on the selected layer's page.
    func testTimeLapseOfADeepLayer() {
        var v = ExplorerViewState(mode: .replay); v.timeLapse = true; v.layer = 50
        let c = Fixture.render(Fixture.resnet(depth: 56), 80, 24, view: v)
        XCTAssertTrue(c.text.contains("time-lapse layer3.7.conv1"), c.text)
        XCTAssertTrue(c.text.contains("layers 49-54 of 54"), c.text)
        XCTAssertTrue(c.text.contains("▸l3.7.c1"), c.text)
    }

    /// With the first conv and the FC quantized too (20 layers), the names stay apart: `conv1` and `linear` have
    /// no dots and keep their names.
    func testQuantizedEndsKeepTheirNames() {
        var v = ExplorerViewState(mode: .live); v.layer = 19
        let c = Fixture.render(Fixture.resnet(depth: 20, ends: true), 80, 24, view: v)
        XCTAssertTrue(c.text.contains("layers 19-20 of 20"), c.text)
        let rows = tableRows(c, 80, 24, layers: 20, fullPrecision: 0).map(\.name)
        XCTAssertEqual(rows, ["l3.2.c2", "linear"], c.text)
    }

    /// VGG-6's 6 layers fit every size: no page in the table's title, no page keys in the key bar.
    func testSixLayersNeedNoPages() {
        for (w, h) in sizes {
            let c = Fixture.render(Fixture.model(), w, h)
            XCTAssertTrue(c.text.contains("─ layers ─"), c.text)
            XCTAssertFalse(c.row(h - 1).contains("{}"), c.row(h - 1))
            var g = ExplorerViewState(mode: .live); g.grid = true
            XCTAssertTrue(Fixture.render(Fixture.model(), w, h, view: g).text.contains("─ all layers ─"))
        }
    }

    func testAbbreviations() {
        XCTAssertEqual(abbreviation("layer3.8.conv2"), "l3.8.c2")
        XCTAssertEqual(abbreviation("conv1"), "conv1")
        XCTAssertEqual(abbreviation("linear"), "linear")
    }

    func abbreviation(_ name: String) -> String {
        guard name.contains(".") else { return name }
        return name.split(separator: ".").map { p in p.first!.isLetter ? String(p.first!) + p.drop { !$0.isNumber } : String(p) }
            .joined(separator: ".")
    }
}

extension String {
    func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
