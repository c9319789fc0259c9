#if canImport(Glibc)
import Glibc
#endif
import Quantizers

/// A key as the explorer sees it; CursesScreen translates ncurses codes into these.
public enum KeyInput: Equatable, Sendable {
    case char(Character)
    case left, right, up, down, home, end, pageUp, pageDown, tab, backTab, resize, ctrlC, escape
    case other(Int32)
}

public enum ExplorerMode: Sendable, Equatable { case live, replay }

public enum ExplorerAction: Equatable, Sendable {
    case method(QuantMethod)
    case cycleMethod
    case lambdaUp, lambdaDown, lambdaZero
    case prevLayer, nextLayer
    case togglePause, save, quit, help
    /// Replay: move the time cursor by this many step records (negative = back).
    case scrub(Int)
    /// Replay: by this share of the run (negative = back).
    case scrubFraction(Float)
    case jumpStart, jumpEnd
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
        default: break
        }
        switch mode {
        case .live:
            switch key {
            case .char("1"): return .method(.full)
            case .char("2"): return .method(.bwn)
            case .char("3"): return .method(.twn)
            case .char("4"): return .method(.bt)
            case .char("5"): return .method(.ttq)
            case .char("6"): return .method(.lq)
            case .char("m"), .char("M"): return .cycleMethod
            case .char("+"), .char("="): return .lambdaUp
            case .char("-"), .char("_"): return .lambdaDown
            case .char("0"): return .lambdaZero
            case .left, .up: return .prevLayer
            case .right, .down: return .nextLayer
            case .char(" "), .char("p"): return .togglePause
            case .char("s"), .char("S"): return .save
            default: return nil
            }
        case .replay:
            switch key {
            case .left: return .scrub(-1)
            case .right: return .scrub(1)
            case .up, .pageUp: return .scrubFraction(-0.05)
            case .down, .pageDown: return .scrubFraction(0.05)
            case .home, .char("g"): return .jumpStart
            case .end, .char("G"): return .jumpEnd
            case .char("1"), .char("2"), .char("3"), .char("4"), .char("5"), .char("6"), .char("m"):
                return .unavailable("method")
            case .char("+"), .char("="), .char("-"), .char("0"): return .unavailable("λ")
            case .char(" "): return .unavailable("pause")
            case .char("s"): return .unavailable("save")
            default: return nil
            }
        }
    }
}

/// λ steps for the +/- keys.
public enum LambdaStep {
    /// λ moves along 1-3-10 steps (1e-4, 3e-4, 1e-3, ... 30), so two presses cross a decade: the regularizer's
    /// useful range (R summed over the weights) spans 1e-4 to 1e-2, and above that it takes over training.
    public static let ladder: [Float] = (-4...1).flatMap { e in [1, 3].map { $0 * powf(10, Float(e)) } }
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
