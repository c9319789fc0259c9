import BTCore

/// The classical baselines of the restoration tables (bicubic upscaling; the noisy input itself).
public enum BaselinePSNR {
    /// The baseline PSNR of every image file, in order. Each image is read, degraded and measured on its own (a
    /// set is never held whole: Urban100 decodes to 250 MB), the files interleaved over `Workers.count` threads.
    public static func psnrs(files: [String], task: RestorationTask,
                             noiseSeed: UInt64 = Degradation.defaultNoiseSeed) throws -> [Double] {
        var results = [Double](repeating: .nan, count: files.count)
        var errors = [Error?](repeating: nil, count: files.count)
        let workers = max(1, min(Workers.count, files.count))
        results.withUnsafeMutableBufferPointer { res in
            errors.withUnsafeMutableBufferPointer { err in
                parallelFor(workers) { w in
                    for i in stride(from: w, to: files.count, by: workers) {
                        do {
                            let image = try HRImage.read(path: files[i])
                            res[i] = try Degradation.pair(image, task: task, noiseSeed: noiseSeed).baselinePSNR
                        } catch {
                            err[i] = error
                        }
                    }
                }
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        return results
    }
}
