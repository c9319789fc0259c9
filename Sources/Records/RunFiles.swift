/// The names of a run folder's files, written once for every module that reads a run: Training's `RunFolder`, which
/// owns them, and Sweeps and the explorer, which sit beside or below Training and read runs without it.
public enum RunFiles {
    public static let config = "config.json"
    public static let metrics = "metrics.jsonl"
    public static let checkpoint = "checkpoint.bin"

    /// The files that make a folder a run.
    public static let all = [checkpoint, metrics, config]

    public static func metrics(in dir: String) -> String { dir + "/" + metrics }
}
