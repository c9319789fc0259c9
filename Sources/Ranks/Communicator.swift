import BTCore
import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// The ranks of one run, through Open MPI (loaded at run time: see CMPI). MPI is called from the thread that
/// started it (MPI_THREAD_FUNNELED); the workers inside a rank never touch it.
public final class Communicator: @unchecked Sendable {
    /// The launch as MPI confirmed it.
    public let launch: Launch
    public var rank: Int { launch.rank }
    public var size: Int { launch.size }
    public var launcher: String { launch.launcher }

    private init(_ launch: Launch) { self.launch = launch }

    /// Open MPI's library: BTVIZ_MPI_LIBRARY (a path, for an Open MPI outside the loader's search) or libmpi.so.40.
    public static func library(_ env: [String: String]) -> String {
        env["BTVIZ_MPI_LIBRARY"].flatMap { $0.isEmpty ? nil : $0 } ?? "libmpi.so.40"
    }

    /// Joins the MPI launch the environment describes (`Launch.detect`): nil when this process runs alone.
    public static func join(_ env: [String: String]) throws -> Communicator? {
        guard let launch = Launch.detect(env) else { return nil }
        return try start(launch, library: library(env))
    }

    /// Loads Open MPI and joins the launch. Throws one line naming what is missing when it cannot.
    public static func start(_ launch: Launch, library: String) throws -> Communicator {
        var err = [CChar](repeating: 0, count: 512)
        guard btmpi_load(library, &err, err.count) == 0 else {
            throw BTError("launched by \(launch.launcher) as rank \(launch.rank) of \(launch.size), but \(String(cString: err))")
        }
        var rank: Int32 = 0, size: Int32 = 0
        guard btmpi_init(&rank, &size, &err, err.count) == 0 else {
            throw BTError("\(launch.launcher): \(String(cString: err))")
        }
        guard Int(size) == launch.size, Int(rank) == launch.rank else {
            throw BTError("\(launch.launcher) announced rank \(launch.rank) of \(launch.size), MPI says \(rank) of \(size): was btviz started by another MPI's launcher?")
        }
        return Communicator(launch)
    }

    public var libraryVersion: String {
        var out = [CChar](repeating: 0, count: 512)
        btmpi_library_version(&out, out.count)
        return String(cString: out)
    }

    public func barrier() { check(btmpi_barrier(), "MPI_Barrier") }
    public func finish() { _ = btmpi_finalize() }
    /// Ends every rank of the launch (a rank that cannot go on takes the others down instead of leaving them waiting).
    public func abort(_ code: Int32) -> Never {
        btmpi_abort(code)
        fatalError("MPI_Abort returned")
    }
    public func seconds() -> Double { btmpi_wtime() }

    /// Every rank's `counts[r]` floats, laid out rank after rank in `recv`; this rank sends `send`.
    public func allGather(_ send: UnsafeBufferPointer<Float>, into recv: UnsafeMutablePointer<Float>, counts: [Int]) {
        allGatherBytes(UnsafeRawBufferPointer(send), into: UnsafeMutableRawPointer(recv), counts: counts.map { $0 * 4 })
    }

    /// Every rank's `counts[r]` bytes, laid out rank after rank in `recv`; this rank sends `send`.
    public func allGatherBytes(_ send: UnsafeRawBufferPointer, into recv: UnsafeMutableRawPointer, counts: [Int]) {
        precondition(counts.count == size && counts[rank] == send.count)
        let bytes = counts.map { Int32($0) }
        check(btmpi_allgatherv_bytes(send.baseAddress, bytes[rank], recv, bytes, offsets(bytes)), "MPI_Allgatherv")
    }

    /// Sends `sendCounts[r]` floats (laid out rank after rank in `send`) to each rank r, and receives `recvCounts[r]`
    /// floats from each, laid out rank after rank in `recv`.
    public func allToAll(_ send: UnsafePointer<Float>, sendCounts: [Int], into recv: UnsafeMutablePointer<Float>, recvCounts: [Int]) {
        let sb = sendCounts.map { Int32($0 * 4) }, rb = recvCounts.map { Int32($0 * 4) }
        check(btmpi_alltoallv_bytes(send, sb, offsets(sb), recv, rb, offsets(rb)), "MPI_Alltoallv")
    }

    public func broadcast(_ buf: UnsafeMutableRawBufferPointer, from root: Int) {
        check(btmpi_bcast_bytes(buf.baseAddress, Int32(buf.count), Int32(root)), "MPI_Bcast")
    }

    /// MPI_Allreduce(MPI_SUM) in place: the plain reduction, whose order of additions is the library's.
    public func allReduceSum(_ buf: UnsafeMutableBufferPointer<Float>) {
        check(btmpi_allreduce_sum_float(buf.baseAddress, Int32(buf.count)), "MPI_Allreduce")
    }

    private func offsets(_ counts: [Int32]) -> [Int32] {
        var d = [Int32](repeating: 0, count: counts.count), at: Int32 = 0
        for (i, c) in counts.enumerated() { d[i] = at; at += c }
        return d
    }

    // Open MPI's default error handler aborts the job before a failing call returns; this is for handlers that return.
    private func check(_ rc: Int32, _ what: String) {
        if rc != 0 { fputs("btviz: rank \(rank): \(what) failed (\(rc))\n", stderr); abort(3) }
    }
}
