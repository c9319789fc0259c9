import BTCore
import Datasets
import Foundation
import XCTest

/// An ImageFolder layout made from the fixture images: class folders of PNG and JPEG files.
final class ImageFolderTests: XCTestCase {
    let images = join(TestData.fixtures, "images")

    /// `classes`: name -> fixture files to copy in (as i-<file>, so copies of one file are told apart).
    func makeFolder(_ classes: [String: [String]]) throws -> String {
        let root = try makeTempDir(self)
        for (name, files) in classes {
            let d = join(root, name)
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            for (i, f) in files.enumerated() { try FileManager.default.copyItem(atPath: join(images, f), toPath: join(d, "\(i)-\(f)")) }
        }
        return root
    }

    func testLoadWithRatioSplit() throws {
        let root = try makeFolder(["b_grey": ["grey.png", "grey.jpg", "grey16.png", "grey.png"],
                                   "a_colour": ["rgb.png", "rgb.jpg", "palette.png", "rgba.png", "rgb.png", "rgb.jpg"]])
        try "notes".write(toFile: join(join(root, "a_colour"), "README.txt"), atomically: true, encoding: .utf8)  // not an image: ignored
        let o = ImageFolderOptions(side: 8, fit: .resize, testDir: nil, testRatio: 0.5)
        let d = try ImageFolder.load(dir: root, options: o)
        XCTAssertEqual(d.classNames, ["a_colour", "b_grey"], "sorted by name")
        XCTAssertEqual(d.train.count + d.test.count, 10)
        XCTAssertEqual(d.test.count, 5, "half of each class")
        XCTAssertEqual(d.train.shape, [3, 8, 8])
        XCTAssertEqual(d.notes, [])
        XCTAssertEqual(Set(d.test.labels), [0, 1])
        // The split does not depend on anything but the folder: loading again gives the same sets.
        let again = try ImageFolder.load(dir: root, options: o)
        XCTAssertEqual(again.test.pixels, d.test.pixels)
        // Grey images come out as equal R, G and B.
        let g = d.train.labels.firstIndex(of: 1)!
        let px = Array(d.train.pixels[g * 192..<g * 192 + 3])
        XCTAssertEqual(px[0], px[1]); XCTAssertEqual(px[1], px[2])
    }

    func testTestFolderAndCatalog() throws {
        let train = try makeFolder(["cat": ["rgb.png", "rgb.jpg"], "dog": ["grey.png", "palette.png"]])
        let test = try makeFolder(["dog": ["grey.jpg"]])
        let o = ImageFolderOptions(side: 16, fit: .centerCrop, testDir: test, testRatio: nil)
        let d = try DatasetCatalog.named("folder").loadData(DatasetRequest(dir: train, folder: o))
        XCTAssertEqual(d.train.count, 4)
        XCTAssertEqual(d.test.count, 1)
        XCTAssertEqual((d.test as! ImageSet).labels, [1], "the test folder's classes by name")
        XCTAssertEqual(d.classes, 2)
        XCTAssertEqual(d.augmentation, Augmentation(pad: 2, cutout: 8, flip: true))
        let stray = try makeFolder(["cow": ["grey.jpg"]])
        assertBTError(try ImageFolder.load(dir: train, options: ImageFolderOptions(side: 16, fit: .resize, testDir: stray, testRatio: nil)),
                      contains: ["class 'cow'", train])
        assertBTError(try DatasetCatalog.named("folder").loadData(DatasetRequest(dir: train, folder: ImageFolderOptions(side: 8, fit: .resize, testDir: nil, testRatio: nil))),
                      contains: ["test_dir DIR", "test_ratio R"])  // settings by key: the CLI spells them as flags
    }

    func testUnreadableFilesAreSkippedAndCounted() throws {
        let root = try makeFolder(["a": ["rgb.png", "truncated.png", "rgb.jpg"], "b": ["grey.png", "not_an_image.jpg", "grey.jpg"]])
        let test = try makeFolder(["a": ["rgb.png"], "b": ["grey.png", "truncated.jpg"]])
        let d = try ImageFolder.load(dir: root, options: ImageFolderOptions(side: 8, fit: .resize, testDir: test, testRatio: nil))
        XCTAssertEqual(d.train.count, 4)
        XCTAssertEqual(d.train.labels, [0, 0, 1, 1])
        XCTAssertEqual(d.test.count, 2)
        XCTAssertEqual(d.notes.count, 1)
        XCTAssertTrue(d.notes[0].contains("skipped 3 of 9 image files"), d.notes[0])
        XCTAssertFalse(d.notes[0].contains("\n"))
        // A test split that is all unreadable is an error, not an empty split.
        let badTest = try makeFolder(["a": ["truncated.png"]])
        assertBTError(try ImageFolder.load(dir: root, options: ImageFolderOptions(side: 8, fit: .resize, testDir: badTest, testRatio: nil)),
                      contains: ["none of the 1 test images"])
    }

    func testBadFolders() throws {
        let o = ImageFolderOptions(side: 8, fit: .resize, testDir: nil, testRatio: 0.5)
        let allBad = try makeFolder(["a": ["truncated.png", "not_an_image.jpg"], "b": ["truncated.jpg", "truncated.png"]])
        assertBTError(try ImageFolder.load(dir: allBad, options: o), contains: ["no image in", allBad, "could be read"])
        let emptyClass = try makeFolder(["a": ["rgb.png", "rgb.jpg"], "empty": []])
        assertBTError(try ImageFolder.load(dir: emptyClass, options: o), contains: ["class folder", "empty", "no PNG or JPEG"])
        let flat = try makeTempDir(self)
        try FileManager.default.copyItem(atPath: join(images, "rgb.png"), toPath: join(flat, "rgb.png"))
        assertBTError(try ImageFolder.load(dir: flat, options: o), contains: ["no class folders"])
        assertBTError(try ImageFolder.load(dir: join(flat, "nope"), options: o), contains: ["does not exist"])
        let single = try makeFolder(["a": ["rgb.png"], "b": ["rgb.png", "rgb.jpg"]])
        assertBTError(try ImageFolder.load(dir: single, options: o), contains: ["has one image", "a test_ratio split"])
    }
}
