import BTCore
import Foundation

/// `tensorboard:` in a sweep: each run writes its own events, so TensorBoard shows one run per run (one folder for
/// all would merge them into one run whose curves interleave). The value says where:
/// - `true` or `run`: under the run's own folder, DIR/<run name>/tensorboard;
/// - a folder ROOT: ROOT/<run name> (ROOT made absolute as --data-dir is: against the working directory for the
///   local backend, refused when relative for Slurm);
/// - `false`: no events.
/// Each run's `--tensorboard` in sweep.json is its own absolute folder, so what a run did is on record.
extension SweepPlan {
    static let tensorBoardFlag = "tensorboard"

    /// The run's `--tensorboard` argument, if it has one, turned from the spec's value into the run's own folder.
    /// `folder` is the sweep folder (absolute), needed only for `true`.
    static func placingTensorBoard(_ args: [String], run name: String, paths: Paths, folder: String?) throws -> [String] {
        guard let i = args.firstIndex(of: "--" + tensorBoardFlag), i + 1 < args.count else { return args }
        let value = args[i + 1]
        var placed = args
        switch value.lowercased() {
        case "false":
            placed.removeSubrange(i...i + 1)
            return placed
        case "true", "run":
            guard let folder else { throw BTError("parameter 'tensorboard': '\(value)' puts the events in each run's folder, which needs the sweep folder") }
            placed[i + 1] = folder + "/" + name + "/tensorboard"
        default:
            guard !value.isEmpty else { throw BTError("parameter 'tensorboard' has an empty value") }
            // `~` is this user's home on either backend; `..` is taken as written (a/b/.. is a), as for --data-dir:
            // the folder is the one the spec names.
            let tilde = (value as NSString).expandingTildeInPath
            let absolute = tilde.hasPrefix("/") ? tilde : try paths.absolute(tilde, parameter: tensorBoardFlag)
            let root = URL(fileURLWithPath: absolute).standardizedFileURL.path
            if root == folder {
                throw BTError("parameter 'tensorboard': \(root) is the sweep folder, where the runs' own folders are; give true to write the events into each run's folder")
            }
            placed[i + 1] = (root == "/" ? "" : root) + "/" + name
        }
        return placed
    }

    /// The arguments less `--tensorboard` and its folder, which is named after the run: equal for a run and the same
    /// run under an earlier name (`SweepFolder.adoptRenamedRun`).
    public static func argsWithoutTensorBoard(_ args: [String]) -> [String] {
        guard let i = args.firstIndex(of: "--" + tensorBoardFlag), i + 1 < args.count else { return args }
        var rest = args
        rest.removeSubrange(i...i + 1)
        return rest
    }
}
