/// How this process was started: as one rank of an MPI launch (mpirun, or srun with PMI/PMIx), or alone.
/// Read from the launcher's environment before MPI is loaded, so a launch without MPI installed is caught
/// with a clear line instead of every rank silently training the whole run on its own.
public struct Launch: Equatable, Sendable {
    public let rank: Int
    public let size: Int
    /// What started the ranks, for messages: "mpirun" or "srun".
    public let launcher: String

    public init(rank: Int, size: Int, launcher: String) {
        self.rank = rank
        self.size = size
        self.launcher = launcher
    }

    /// The launch the environment describes; nil when this process is not one of several ranks.
    /// mpirun (Open MPI) sets OMPI_COMM_WORLD_SIZE/RANK; srun sets SLURM_STEP_NUM_TASKS and SLURM_PROCID in a job
    /// step (a batch script, which is not a step of its own, has neither SLURM_STEP_NUM_TASKS nor a step id).
    public static func detect(_ env: [String: String]) -> Launch? {
        if let size = count(env["OMPI_COMM_WORLD_SIZE"]) {
            guard size > 1, let rank = count(env["OMPI_COMM_WORLD_RANK"]), rank < size else { return nil }
            return Launch(rank: rank, size: size, launcher: "mpirun")
        }
        if let size = count(env["SLURM_STEP_NUM_TASKS"]), env["SLURM_STEP_ID"] != nil {
            guard size > 1, let rank = count(env["SLURM_PROCID"]), rank < size else { return nil }
            return Launch(rank: rank, size: size, launcher: "srun")
        }
        return nil
    }

    private static func count(_ s: String?) -> Int? {
        guard let s, let v = Int(s), v >= 0, v <= 1 << 20 else { return nil }
        return v
    }
}
