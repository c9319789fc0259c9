import Ranks
import XCTest

final class LaunchTests: XCTestCase {
    func testMpirunsRanksAreRead() {
        XCTAssertEqual(Launch.detect(["OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "3"]), Launch(rank: 3, size: 4, launcher: "mpirun"))
        // One rank of one is a process alone.
        XCTAssertNil(Launch.detect(["OMPI_COMM_WORLD_SIZE": "1", "OMPI_COMM_WORLD_RANK": "0"]))
    }

    func testAnSrunStepIsALaunchAndABatchScriptIsNot() {
        XCTAssertEqual(Launch.detect(["SLURM_STEP_NUM_TASKS": "2", "SLURM_STEP_ID": "0", "SLURM_PROCID": "1", "SLURM_NTASKS": "2"]),
                       Launch(rank: 1, size: 2, launcher: "srun"))
        // sbatch --ntasks 4 runs its script once: the allocation's task count is not a launch.
        XCTAssertNil(Launch.detect(["SLURM_NTASKS": "4", "SLURM_PROCID": "0", "SLURM_JOB_ID": "7"]))
        XCTAssertNil(Launch.detect([:]))
    }

    func testNonsenseCountsAreNotALaunch() {
        XCTAssertNil(Launch.detect(["OMPI_COMM_WORLD_SIZE": "many"]))
        XCTAssertNil(Launch.detect(["OMPI_COMM_WORLD_SIZE": "-2"]))
        XCTAssertNil(Launch.detect(["OMPI_COMM_WORLD_SIZE": "99999999999", "OMPI_COMM_WORLD_RANK": "0"]))
        XCTAssertNil(Launch.detect(["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "2"]))
        XCTAssertNil(Launch.detect(["OMPI_COMM_WORLD_SIZE": "2"]))
    }

    func testTheLibraryCanBeNamed() {
        XCTAssertEqual(Communicator.library([:]), "libmpi.so.40")
        XCTAssertEqual(Communicator.library(["BTVIZ_MPI_LIBRARY": ""]), "libmpi.so.40")
        XCTAssertEqual(Communicator.library(["BTVIZ_MPI_LIBRARY": "/opt/ompi5/lib/libmpi.so.40"]), "/opt/ompi5/lib/libmpi.so.40")
    }
}
