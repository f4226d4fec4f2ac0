import { fromBytes, type Datatype, type TypedArray } from '../tensors.js';

const DTYPES: Record<string, Datatype> = {
  '|b1': 'BOOL',
  '|u1': 'UINT8',
  '<u2': 'UINT16',
  '<u4': 'UINT32',
  '<u8': 'UINT64',
  '|i1': 'INT8',
  '<i2': 'INT16',
  '<i4': 'INT32',
  '<i8': 'INT64',
  '<f2': 'FP16',
  '<f4': 'FP32',
  '<f8': 'FP64',
};

/** A NumPy .npy file (format 1.0 to 3.0, little-endian, C order), as numpy.save writes it. */
export function readNpy(file: Uint8Array): { datatype: Datatype; shape: number[]; data: TypedArray } {
  const magic = String.fromCharCode(...file.subarray(0, 6));
  if (magic !== '\x93NUMPY') throw new Error('not a .npy file (no \\x93NUMPY magic)');
  const major = file[6]!;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const [headerLength, start] = major === 1 ? [view.getUint16(8, true), 10] : [view.getUint32(8, true), 12];
  const header = new TextDecoder().decode(file.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new Error(`unreadable .npy header: ${header.trim()}`);
  const datatype = DTYPES[descr.replace(/^=/, '<')];
  if (!datatype) throw new Error(`.npy dtype '${descr}' is not supported (little-endian numbers and bool only)`);
  if (fortran === 'True')
    throw new Error('.npy in Fortran order is not supported: save a C-ordered array (np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  return { datatype, shape, data: fromBytes(datatype, file.subarray(start + headerLength)) };
}
