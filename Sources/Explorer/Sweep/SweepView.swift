import Foundation

/// Which screen of `sweep watch` is showing. The run explorer (Enter) is the replay explorer itself.
public enum SweepScreen: Sendable, Equatable { case board, multiples, plot }

/// What the user has chosen in `sweep watch`; the grid's data lives in SweepBoard.
public struct SweepViewState: Sendable, Equatable {
    public var screen: SweepScreen = .board
    /// Index into the board's rows.
    public var selected = 0
    /// Side by side: the layer shown (index into the runs' quantized layers).
    public var layer = 0
    /// Side by side: the step shown; nil follows the newest step every run of the group has reached.
    public var step: Int?
    /// Side by side: the option the runs differ in (the others are the selected run's); nil picks `method` when it
    /// varies, else the first varying option.
    public var compareKey: String?
    /// Search plot: the option on the x axis; nil is the plot's default (a search's first sampled parameter).
    public var plotKey: String?
    /// A short message for a few seconds ("not started yet").
    public var notice: String?

    public init() {}

    /// The option compared side by side.
    public func comparedKey(in board: SweepBoard) -> String? {
        if let k = compareKey, board.varying.contains(k) { return k }
        return board.varying.contains("method") ? "method" : board.varying.first
    }

    /// The search plot's x: the chosen option while it is still one, else the plot's default.
    public func plotted(in board: SweepBoard) -> String? {
        if let k = plotKey, board.plot.keys.contains(k) { return k }
        return board.plot.defaultKey
    }

    /// The selected run's row group: every run whose varying options equal the selected run's except the compared
    /// one (conv4 under BWN, TWN and BT at one k and seed), in board order.
    public func group(in board: SweepBoard) -> [Int] {
        guard board.rows.indices.contains(selected) else { return [] }
        let sel = board.rows[selected]
        guard let key = comparedKey(in: board), let ki = board.varying.firstIndex(of: key) else { return [selected] }
        return board.rows.indices.filter { i in
            let r = board.rows[i]
            return r.values.indices.allSatisfy { $0 == ki || (r.values.indices.contains($0) && sel.values.indices.contains($0) && r.values[$0] == sel.values[$0]) }
        }
    }
}

/// Keys of `sweep watch`, as actions. The run explorer it opens has its own (the replay explorer's).
public enum SweepAction: Equatable, Sendable {
    case quit, back, up, down, pageUp, pageDown, home, end
    /// Board: open the selected run in the explorer; side by side: nothing.
    case open
    /// Board: the side-by-side view of the selected run's group; side by side: back to the board.
    case multiples
    /// Side by side: an earlier or later step, the next compared option, an earlier or later layer.
    case stepBack, stepForward, cycleCompared, prevLayer, nextLayer
    /// Board: the search plot; search plot: back to the board.
    case plot
    /// Search plot: the next or previous option on the x axis.
    case nextParameter, prevParameter
    case resize
}

public enum SweepKeyMap {
    public static func action(for key: KeyInput, screen: SweepScreen) -> SweepAction? {
        switch key {
        case .char("q"), .char("Q"), .ctrlC: return .quit
        case .escape: return screen == .board ? .quit : .back
        case .resize: return .resize
        default: break
        }
        switch screen {
        case .board, .plot:
            // The plot moves the board's selection with the board's keys.
            switch key {
            case .char("m"), .char("M"): return screen == .board ? .multiples : nil
            case .char("p"), .char("P"): return .plot
            case .char("x"), .tab: return screen == .plot ? .nextParameter : nil
            case .char("X"), .backTab: return screen == .plot ? .prevParameter : nil
            default: break
            }
            switch key {
            case .up, .char("k"): return .up
            case .down, .char("j"): return .down
            case .pageUp: return .pageUp
            case .pageDown: return .pageDown
            case .home: return .home
            case .end, .char("G"): return .end
            case .enter, .char("o"): return .open
            default: return nil
            }
        case .multiples:
            switch key {
            case .char("m"), .char("M"): return .multiples
            case .left: return .stepBack
            case .right: return .stepForward
            case .home: return .home
            case .end, .char("G"): return .end
            case .up, .backTab, .char("["): return .prevLayer
            case .down, .tab, .char("]"): return .nextLayer
            case .char("c"), .char("C"): return .cycleCompared
            default: return nil
            }
        }
    }
}

/// Applies board keys to the view state. Pure: the loop does what needs the terminal (opening a run).
public enum SweepController {
    /// `rows`: how many board rows a page is. `steps`: the steps the side-by-side view can show, in order.
    public static func handle(_ action: SweepAction, view: inout SweepViewState, board: SweepBoard, page: Int = 10,
                              steps: [Int] = [], layerCount: Int = 1) {
        let n = board.rows.count
        func select(_ i: Int) { view.selected = n == 0 ? 0 : min(max(0, i), n - 1) }
        switch (action, view.screen) {
        case (.up, .board), (.up, .plot): select(view.selected - 1)
        case (.down, .board), (.down, .plot): select(view.selected + 1)
        case (.pageUp, .board), (.pageUp, .plot): select(view.selected - max(1, page))
        case (.pageDown, .board), (.pageDown, .plot): select(view.selected + max(1, page))
        case (.home, .board), (.home, .plot): select(0)
        case (.end, .board), (.end, .plot): select(n - 1)
        case (.plot, .board): view.screen = .plot
        case (.plot, .plot), (.back, .plot): view.screen = .board
        case (.nextParameter, .plot), (.prevParameter, .plot):
            let keys = board.plot.keys
            guard !keys.isEmpty else { break }
            let i = view.plotted(in: board).flatMap { keys.firstIndex(of: $0) } ?? 0
            view.plotKey = keys[(i + (action == .nextParameter ? 1 : keys.count - 1)) % keys.count]
        case (.multiples, .board):
            view.screen = .multiples
            view.step = nil
        case (.multiples, .multiples), (.back, .multiples):
            view.screen = .board
        case (.prevLayer, .multiples): view.layer = (view.layer - 1 + max(1, layerCount)) % max(1, layerCount)
        case (.nextLayer, .multiples): view.layer = (view.layer + 1) % max(1, layerCount)
        case (.home, .multiples): view.step = steps.first
        case (.end, .multiples): view.step = nil
        case (.stepBack, .multiples), (.stepForward, .multiples):
            guard !steps.isEmpty else { break }
            let current = view.step ?? steps.last!
            let i = steps.lastIndex { $0 <= current } ?? 0
            let j = min(max(0, i + (action == .stepBack ? -1 : 1)), steps.count - 1)
            // Past the newest step: follow again.
            view.step = j == steps.count - 1 && action == .stepForward ? nil : steps[j]
        case (.cycleCompared, .multiples):
            guard let k = view.comparedKey(in: board), let i = board.varying.firstIndex(of: k) else { break }
            view.compareKey = board.varying[(i + 1) % board.varying.count]
            view.step = nil
        default: break
        }
    }
}
