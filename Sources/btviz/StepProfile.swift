import Layers
import Models
import Training

/// Where a training step's time goes, stage by stage: the engine's own step, run with a timer installed.
enum StepProfile {
    struct Row { var name: String; var forward: Double; var backward: Double }

    /// Runs `steps` steps exactly as the benchmark does and returns each stage's median time, so a step
    /// the VM's neighbours interrupted does not count.
    static func run(steps: Int, step: (Int) -> Void, on model: any Model) -> [Row] {
        let timer = StageTimer()
        model.timer = timer
        defer { model.timer = nil }
        for i in 0..<steps { step(i) }
        return timer.stages.map { Row(name: $0.name, forward: median($0.forward), backward: median($0.backward)) }
    }

    private static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
