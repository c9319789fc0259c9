import BTCore
import Foundation
import ZIPFoundation

/// Tensors as NumPy's .npz (what `numpy.savez` writes: an uncompressed zip of one `<name>.npy` per array), for
/// numpy, JAX and anything else without a safetensors reader: `numpy.load(path)[name]`. The same tensors under the
/// same names as the safetensors export (`StateDictFile.tensors`); each entry dated at the zip epoch so the same run
/// exports the same bytes.
public enum NumpyArchive {
    public static func encode(_ tensors: [(name: String, tensor: SafeTensor)]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (name, t) in tensors {
            let npy = Data(NpyFormat.encode(descr: try descr(t.dtype, name: name), shape: t.shape, payload: t.bytes))
            try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(npy.count),
                                 modificationDate: Date(timeIntervalSince1970: 315_532_800), compressionMethod: .none) { position, size in
                npy.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let data = archive.data else { throw BTError("the .npz archive could not be assembled in memory") }
        return data
    }

    /// numpy's type string for the safetensors dtypes btviz writes (all little-endian).
    private static func descr(_ dtype: SafeTensor.DType, name: String) throws -> String {
        switch dtype {
        case .f32: return "<f4"
        case .f64: return "<f8"
        case .i64: return "<i8"
        case .i32: return "<i4"
        case .i16: return "<i2"
        case .i8: return "|i1"
        case .u8: return "|u1"
        case .bool: return "|b1"
        case .f16: return "<f2"
        case .bf16: throw BTError("\(name) is bfloat16, which numpy has no type for")
        }
    }
}
