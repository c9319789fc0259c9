import BTCore
import Foundation
import Records

/// A sweep run's Slurm task as the controller knows it now.
public struct SlurmTask: Equatable, Sendable {
    /// "123_4": the array job and the task's index.
    public var job: String
    /// squeue's state: PENDING, RUNNING, COMPLETING, CONFIGURING, SUSPENDED, ...
    public var state: String
    /// Why it waits (squeue's reason: Priority, Resources, JobArrayTaskLimit, BeginTime, ...), nil for None.
    public var reason: String?
    /// How often it was requeued (scontrol's Restarts: a time limit, preemption, `scontrol requeue`).
    public var restarts: Int

    public init(job: String, state: String, reason: String?, restarts: Int) {
        self.job = job; self.state = state; self.reason = reason; self.restarts = restarts
    }

    /// Still in the queue and not on its way out: another submission of its run would only wait for it.
    public var isLive: Bool { ["PENDING", "RUNNING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "SUSPENDED", "RESIZING"].contains(state) }
}

/// Reads which runs of a sweep Slurm holds: DIR/slurm's submissions (array-N.txt, array-N.job) joined with
/// `squeue` (state and reason of every task, pending ones listed one by one) and `scontrol show job` (restart
/// counts). For an array the controller has forgotten, `sacct` tells how its tasks ended (TIMEOUT,
/// OUT_OF_MEMORY, NODE_FAIL, ...) where the cluster keeps accounting; where it does not (the single-node test
/// cluster, many small ones) the run folders alone say how the runs ended (outcome.json, metrics.jsonl).
public enum SlurmQueue {
    /// The array numbers N of DIR/slurm/PREFIX-N.txt (array- for training, eval- for evaluation).
    static func submissionIndices(slurmDir: String, prefix: String = "array-") -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: slurmDir)) ?? []
        return names.compactMap { n in
            guard n.hasPrefix(prefix), n.hasSuffix(".txt") else { return nil }
            return Int(n.dropFirst(prefix.count).dropLast(4))
        }
    }

    /// The submitted arrays, oldest first: job id and run names by array index.
    public static func submissions(_ folder: SweepFolder, prefix: String = "array-") -> [(jobID: String, runs: [String])] {
        submissionIndices(slurmDir: folder.slurmPath, prefix: prefix).sorted().compactMap { n in
            let base = folder.slurmPath + "/\(prefix)\(n)"
            guard let id = readSmall(base + ".job")?.trimmingCharacters(in: .whitespacesAndNewlines),
                  !id.isEmpty, id.allSatisfy(\.isNumber),
                  let list = readSmall(base + ".txt") else { return nil }
            return (id, list.split(separator: "\n").map(String.init))
        }
    }

    /// The runs whose task in one of the PREFIX arrays is in Slurm's queue now (pending or running), with the
    /// task's job id: what a second submission must not send again. Empty without Slurm or submissions.
    public static func queuedRuns(_ folder: SweepFolder, prefix: String) -> [String: String] {
        let subs = submissions(folder, prefix: prefix)
        guard !subs.isEmpty else { return [:] }
        let listing = queue(jobIDs: subs.map(\.jobID))
        var byRun: [String: String] = [:]
        for sub in subs {
            for t in listing where t.arrayJob == sub.jobID && t.index >= 0 && t.index < sub.runs.count {
                byRun[sub.runs[t.index]] = "\(t.arrayJob)_\(t.index)"
            }
        }
        return byRun
    }

    /// Every run of the sweep that Slurm knows now, by run name (a later submission's task wins). Empty when
    /// nothing was submitted, nothing is queued any more, or the Slurm commands are not there. `includingEnded`:
    /// also tasks that ended but that slurmctld still holds (for MinJobAge), so a task that ran and ended between
    /// two looks is seen at all (a search's scheduler needs that; the status views read the run folder instead).
    public static func tasks(_ folder: SweepFolder, includingEnded: Bool = false) -> [String: SlurmTask] {
        let subs = submissions(folder)
        guard !subs.isEmpty else { return [:] }
        let ids = subs.map(\.jobID)
        var listing = queue(jobIDs: ids, allStates: includingEnded)
        let gone = ids.filter { id in !listing.contains { $0.arrayJob == id } }
        if !gone.isEmpty { listing += accounting(jobIDs: gone) }
        let restarts = restartCounts(jobIDs: Set(listing.map(\.arrayJob)))
        var byRun: [String: SlurmTask] = [:]
        for sub in subs {
            for t in listing where t.arrayJob == sub.jobID && t.index >= 0 && t.index < sub.runs.count {
                let job = "\(t.arrayJob)_\(t.index)"
                byRun[sub.runs[t.index]] = SlurmTask(job: job, state: t.state, reason: t.reason, restarts: restarts[job] ?? 0)
            }
        }
        return byRun
    }

    /// One line of `squeue -h -r -o '%F|%K|%T|%r'`.
    public struct Listed: Equatable, Sendable {
        public var arrayJob: String
        public var index: Int
        public var state: String
        public var reason: String?

        public init(arrayJob: String, index: Int, state: String, reason: String?) {
            self.arrayJob = arrayJob; self.index = index; self.state = state; self.reason = reason
        }
    }

    /// squeue's lines for these array jobs. A job the controller no longer knows makes squeue fail for a list of
    /// only such jobs ("Invalid job id specified"), which is read as nothing queued.
    static func queue(jobIDs: [String], allStates: Bool = false) -> [Listed] {
        let states = allStates ? ["-t", "all"] : []
        guard let r = try? SlurmCommand.run("squeue", ["-h", "-r", "-j", jobIDs.joined(separator: ",")] + states + ["-o", "%F|%K|%T|%r"]),
              r.status == 0 else { return [] }
        return parseSqueue(r.stdout)
    }

    public static func parseSqueue(_ text: String) -> [Listed] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 4, !f[0].isEmpty, let index = Int(f[1]) else { return nil }  // a non-array job has %K N/A
            return Listed(arrayJob: f[0], index: index, state: f[2], reason: f[3] == "None" || f[3].isEmpty ? nil : f[3])
        }
    }

    /// How the tasks of arrays no longer in the queue ended, from `sacct`; nothing where there is no accounting
    /// ("Slurm accounting storage is disabled").
    static func accounting(jobIDs: [String]) -> [Listed] {
        guard let r = try? SlurmCommand.run("sacct", ["-n", "-P", "-X", "-j", jobIDs.joined(separator: ","), "-o", "JobID,State"]),
              r.status == 0 else { return [] }
        return parseSacct(r.stdout)
    }

    /// `sacct -n -P -X -o JobID,State` lines: "123_4|TIMEOUT", "123_5|CANCELLED by 0"; the line of tasks that never
    /// started ("123_[6-9]|PENDING") names no single task and is skipped.
    public static func parseSacct(_ text: String) -> [Listed] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false)
            guard f.count >= 2, let us = f[0].firstIndex(of: "_"), let index = Int(f[0][f[0].index(after: us)...]),
                  let state = f[1].split(separator: " ").first else { return nil }
            return Listed(arrayJob: String(f[0][..<us]), index: index, state: String(state), reason: nil)
        }
    }

    /// Restarts per task ("123_4": 1) from `scontrol -o show job ID`: one line per task that has a record of
    /// its own (a task that never started has none, and no restarts).
    static func restartCounts(jobIDs: Set<String>) -> [String: Int] {
        var out: [String: Int] = [:]
        for id in jobIDs {
            guard let r = try? SlurmCommand.run("scontrol", ["-o", "show", "job", id]), r.status == 0 else { continue }
            out.merge(parseRestarts(r.stdout)) { $1 }
        }
        return out
    }

    public static func parseRestarts(_ text: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            var fields: [Substring: Substring] = [:]
            for token in line.split(separator: " ") {
                guard let eq = token.firstIndex(of: "=") else { continue }
                fields[token[..<eq]] = token[token.index(after: eq)...]
            }
            guard let array = fields["ArrayJobId"], let task = fields["ArrayTaskId"], let index = Int(task),
                  let restarts = fields["Restarts"].flatMap({ Int($0) }) else { continue }  // "1-3%1": tasks not started yet
            out["\(array)_\(index)"] = restarts
        }
        return out
    }

    /// A run's phase for `sweep status` and `sweep watch` when the sweep went to Slurm: the run folder's (the truth
    /// once a task holds or has left the run) merged with its task in the queue: a task waiting makes the run
    /// queued or requeued, one starting makes it running; a task that left the queue adds how it ended to the
    /// folder's note.
    public static func merge(_ state: RunPhase, _ task: SlurmTask?) -> RunPhase {
        guard let task else { return state }
        let requeued = task.restarts > 0 ? ", requeued \(task.restarts)x" : ""
        switch state {
        case .done, .stale:
            return state
        case .running(let holder):
            return .running(holder: holder + requeued)
        default:
            break
        }
        switch task.state {
        case "PENDING", "REQUEUED", "REQUEUE_HOLD":
            let why = task.reason.map { ": \($0)" } ?? ""
            return task.restarts > 0
                ? .requeued("Slurm job \(task.job) waits\(why) (restart \(task.restarts))")
                : .queued("Slurm job \(task.job) waits\(why)")
        case "RUNNING", "CONFIGURING":
            return .running(holder: "Slurm job \(task.job) starting\(requeued)")
        default:
            let note = "Slurm job \(task.job) \(task.state.lowercased())"
            let said = state.note.isEmpty ? note : state.note + "; " + note
            switch state {
            case .notStarted: return .notStarted(note: said)
            case .interrupted: return .interrupted(note: said)
            case .failed: return .failed(reason: said)
            case .queued: return .queued(said)
            case .requeued: return .requeued(said)
            case .running, .done, .stale: return state
            }
        }
    }

    /// A small text file of ours in DIR/slurm (at most 64 MB: a run list of a huge grid), or nil.
    private static func readSmall(_ path: String) -> String? {
        guard let f = try? RegularFile(path), let bytes = try? f.readAll(limit: 64 << 20, what: path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
