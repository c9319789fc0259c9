#if canImport(Glibc)
import Glibc
#endif
import BTCore

/// How much memory a VGG-6 needs (kept beside the model it counts: a change of its layers changes this), worked out before anything is allocated, so an absurd size (a huge K, batch
/// or image) is a one-line refusal and not the OOM killer. Counted: each conv's output, input gradient and two
/// zero-padded copies and its weight gradient's per-block partials, each batch norm's output and input gradient,
/// and the parameters with their gradient, quantized copy and Adam moments. Measured against peak RSS: 118 MB estimated, 133 MB measured (K=16, batch
/// 128, 1x28x28), the rest being code and the dataset.
extension VGG6 {
    /// Bytes for VGG-6(k) on c x h x w inputs at `batch`, or nil if the count overflows (it is absurd then).
    public static func memoryBytes(k: Int, inputShape: [Int], classes: Int, batch: Int) -> Int? {
        guard inputShape.count == 3 else { return nil }
        var (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        var perSample = 0, params = 0, partials = 0
        func add(_ a: inout Int, _ terms: Int...) -> Bool {
            var p = 1
            for t in terms {
                let (m, o) = p.multipliedReportingOverflow(by: t)
                if o { return false }
                p = m
            }
            let (s, o) = a.addingReportingOverflow(p)
            a = s
            return !o
        }
        for width in [k, 2 * k, 4 * k] {
            for _ in 0..<2 {
                guard add(&perSample, h * w, 2 * (c + width)), add(&perSample, h * w, 2 * width),
                      add(&params, 9 * c, width),
                      add(&partials, min(batch, Partition.maxBlocks), 9 * c, width) else { return nil }
                c = width
            }
            h /= 2; w /= 2
        }
        guard add(&params, h * w * c, 8 * k), add(&params, 8 * k, classes),
              // The FC layers' per-group gradient partials.
              add(&partials, min(batch, Partition.maxBlocks), h * w * c * 8 * k + 8 * k * classes) else { return nil }
        var total = 0
        guard add(&total, perSample, batch, 4), add(&total, params, 5 * 4), add(&total, partials, 4) else { return nil }
        return total
    }
}
