#if canImport(Glibc)
import Glibc
#endif
import Quantizers

/// A key as the explorer sees it; CursesScreen translates ncurses codes into these.
public enum KeyInput: Equatable, Sendable {
    case char(Character)
    case left, right, up, down, home, end, pageUp, pageDown, tab, backTab, resize, ctrlC, escape, enter
    case mouse(x: Int, y: Int, kind: MouseKind)
    case other(Int32)
}

public enum MouseKind: Sendable, Equatable { case press, release, drag, wheelUp, wheelDown }

/// live: the screen of the process that trains; attached: `btviz attach RUN`, another process steering a running
/// trainer through its run folder (q leaves it, the run goes on); replay: recorded steps, nothing to steer.
public enum ExplorerMode: Sendable, Equatable {
    case live, attached, replay
    /// The trainer keys (method, λ, pause, save) reach a running trainer.
    public var steersTrainer: Bool { self != .replay }
}

public enum ExplorerAction: Equatable, Sendable {
    case method(QuantMethod)
    case cycleMethod
    case lambdaUp, lambdaDown, lambdaZero
    case prevLayer, nextLayer
    /// A page of layers back or forward: the table's next page, its first layer selected.
    case prevLayerPage, nextLayerPage
    case togglePause, save, quit, help
    /// Replay: move the time cursor by this many step records (negative = back).
    case scrub(Int)
    /// Replay: by this share of the run (negative = back).
    case scrubFraction(Float)
    case jumpStart, jumpEnd
    /// The curves: less or more smoothing, a log axis for the loss.
    case smoothLess, smoothMore, toggleLogLoss
    /// Views: the time-lapse strip, the grid of all layers, the what-if overlay (cycles through the methods).
    case toggleTimeLapse, toggleGrid, cycleWhatIf
    /// Replay: play the records forward, or stop.
    case togglePlay
    /// The mouse: a press or a drag at a cell (a layer row selects it; a curve scrubs a replay), the wheel steps.
    case point(x: Int, y: Int)
    case wheel(Int)
    /// Live: close the screen, training goes on headless.
    case detach
    case resize
    /// A live-only key pressed in replay; the string names it for the notice.
    case unavailable(String)
}

public enum KeyMap {
    public static func action(for key: KeyInput, mode: ExplorerMode) -> ExplorerAction? {
        switch key {
        case .char("q"), .char("Q"), .ctrlC: return .quit
        case .char("?"), .char("h"): return .help
        case .resize: return .resize
        case .tab, .char("]"): return .nextLayer
        case .backTab, .char("["): return .prevLayer
        case .char("{"): return .prevLayerPage
        case .char("}"): return .nextLayerPage
        case .char(","), .char("<"): return .smoothLess
        case .char("."), .char(">"): return .smoothMore
        case .char("l"), .char("L"): return .toggleLogLoss
        case .char("t"), .char("T"): return .toggleTimeLapse
        case .char("g"): return .toggleGrid
        case .char("w"), .char("W"): return .cycleWhatIf
        case .mouse(let x, let y, let kind):
            switch kind {
            case .press, .drag: return .point(x: x, y: y)
            case .wheelUp: return .wheel(-1)
            case .wheelDown: return .wheel(1)
            case .release: return nil
            }
        default: break
        }
        switch mode {
        case .live, .attached:
            switch key {
            case .char(let c) where MethodKeys.method(for: c) != nil: return .method(MethodKeys.method(for: c)!)
            case .char("m"), .char("M"): return .cycleMethod
            case .char("+"), .char("="): return .lambdaUp
            case .char("-"), .char("_"): return .lambdaDown
            case .char("0"): return .lambdaZero
            case .left, .up: return .prevLayer
            case .right, .down: return .nextLayer
            case .char(" "), .char("p"): return .togglePause
            case .char("s"), .char("S"): return .save
            case .char("d"), .char("D"): return mode == .live ? .detach : .quit
            case .escape where mode == .attached: return .quit
            default: return nil
            }
        case .replay:
            switch key {
            case .left: return .scrub(-1)
            case .right: return .scrub(1)
            case .up, .pageUp: return .scrubFraction(-0.05)
            case .down, .pageDown: return .scrubFraction(0.05)
            case .home: return .jumpStart
            case .end, .char("G"): return .jumpEnd
            case .escape: return .quit  // back to the board when `sweep watch` opened it
            case .char("m"): return .unavailable("method")
            case .char(let c) where MethodKeys.method(for: c) != nil: return .unavailable("method")
            case .char("+"), .char("="), .char("-"), .char("0"): return .unavailable("λ")
            case .char(" "), .char("p"), .char("P"): return .togglePlay
            case .char("s"): return .unavailable("save")
            case .char("d"): return .unavailable("detach")
            default: return nil
            }
        }
    }
}

/// The number keys pick methods in the registry's order: 1 is its first (full precision), 2 the next, ...
/// (the first nine).
public enum MethodKeys {
    public static var methods: [QuantMethod] { Array(QuantMethod.allCases.prefix(9)) }

    public static func method(for c: Character) -> QuantMethod? {
        guard let d = c.wholeNumberValue, c.isASCII, d >= 1, d <= methods.count else { return nil }
        return methods[d - 1]
    }

    public static func key(_ m: QuantMethod) -> String? { methods.firstIndex(of: m).map { String($0 + 1) } }

    /// "1-7": every method's key.
    public static var range: String { "1-\(methods.count)" }
    /// "2-7": the keys of the methods that quantize.
    public static var quantizingRange: String {
        let keys = methods.filter(\.definition.hasTransitions).compactMap(key)
        return keys.count > 1 ? keys.first! + "-" + keys.last! : keys.first ?? ""
    }
}

/// λ steps for the +/- keys.
public enum LambdaStep {
    /// λ moves along 1-3-10 steps (1e-4, 3e-4, 1e-3, ... 30), so two presses cross a decade: the regularizer's
    /// useful range (R summed over the weights) spans 1e-4 to 1e-2, and above that it takes over training.
    /// Each value is the Float nearest the decimal one (3e-4, not 3 * 1e-4 in Float), so events and configs say 0.0003.
    public static let ladder: [Float] = (-4...1).flatMap { e in [1.0, 3.0].map { Float("\(Int($0))e\(e)")! } }
    /// The first non-zero λ that + reaches from 0, and below which − gives 0.
    public static var smallest: Float { ladder[0] }

    public static func up(_ l: Float) -> Float {
        guard l.isFinite, l > 0 else { return smallest }
        return ladder.first { $0 > l * 1.001 } ?? l * 3
    }

    public static func down(_ l: Float) -> Float {
        guard l.isFinite, l > 0 else { return 0 }
        return ladder.last { $0 < l * 0.999 } ?? 0
    }
}
