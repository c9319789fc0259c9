/// What `sweep run --backend slurm` asks of the cluster: the sbatch options of the job array it submits, one
/// task per pending run. The Slurm launcher (SlurmLauncher.swift) writes them into DIR/slurm's script.
public struct SlurmSettings: Equatable, Sendable {
    public var partition: String?
    /// --time, as sbatch takes it ("01:30:00", "2-00:00:00").
    public var time: String?
    public var cpusPerTask: Int?
    /// --mem, as sbatch takes it ("8G").
    public var mem: String?
    /// The array's %N: at most this many tasks at once.
    public var maxParallel: Int?
    public var account: String?
    /// Any other `#SBATCH` line, as given ("--qos=high").
    public var extraLines: [String]
    /// Each run as one MPI job of nodes x tasksPerNode ranks (sbatch --nodes, --ntasks-per-node); nil: one process.
    public var nodes: Int?
    public var tasksPerNode: Int?
    /// The ranks of each run's MPI job; 1 where it is one process.
    public var ranks: Int { (nodes ?? 1) * (tasksPerNode ?? 1) }

    public init(partition: String? = nil, time: String? = nil, cpusPerTask: Int? = nil, mem: String? = nil,
                maxParallel: Int? = nil, account: String? = nil, extraLines: [String] = [], nodes: Int? = nil,
                tasksPerNode: Int? = nil) {
        self.partition = partition; self.time = time; self.cpusPerTask = cpusPerTask; self.mem = mem
        self.maxParallel = maxParallel; self.account = account; self.extraLines = extraLines
        self.nodes = nodes; self.tasksPerNode = tasksPerNode
    }
}
