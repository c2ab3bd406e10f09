// The safetensors container (https://huggingface.co/docs/safetensors): 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the
// data. Parsing validates everything and returns views into the input (no copies), so a 1 GB model
// is read once.
import { ModelFormatError } from './errors.js';

export const DTYPE_SIZES = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
} as const;
export type Dtype = keyof typeof DTYPE_SIZES;

export interface TensorView {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** A view into the parsed bytes (not a copy, not necessarily aligned). */
  data: Uint8Array;
}

export interface TensorSpec {
  name: string;
  dtype: Dtype;
  shape: number[];
}

const METADATA = '__metadata__';
// Guard against absurd headers before decoding them (the Rust implementation uses 100 MB).
const MAX_HEADER_BYTES = 100_000_000;

export function tensorByteLength(t: { dtype: Dtype; shape: number[] }): number {
  return t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZES[t.dtype];
}

function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.hasOwn(DTYPE_SIZES, s);
}

/** Parses and validates a whole safetensors file. */
export function parseSafetensors(bytes: Uint8Array, file: string): Map<string, TensorView> {
  const fail = (problem: string, tensor?: string): never => {
    throw new ModelFormatError(file, problem, tensor);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, a safetensors file starts with an 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) fail(`header length ${headerLen} goes beyond the end of the file (${bytes.length} bytes); truncated or not safetensors`);
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is too large`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, TensorView>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA) {
      if (typeof entry !== 'object' || entry === null || Object.values(entry).some((v) => typeof v !== 'string')) {
        fail('__metadata__ must map strings to strings');
      }
      continue;
    }
    if (typeof entry !== 'object' || entry === null) fail('header entry is not an object', name);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDtype(dtype)) fail(`unknown dtype ${JSON.stringify(dtype)}`, name);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`data_offsets ${JSON.stringify(offsets)} is not [begin, end]`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`data_offsets [${begin}, ${end}] end before they begin`, name);
    if (end > dataLen) fail(`data_offsets [${begin}, ${end}] go beyond the data (${dataLen} bytes); file truncated?`, name);
    const t = { dtype: dtype as Dtype, shape: shape as number[] };
    const expected = tensorByteLength(t);
    if (end - begin !== expected) {
      fail(`holds ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`, name);
    }
    ranges.push([begin, end, name]);
    tensors.set(name, { name, ...t, data: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(`data overlaps tensor '${ranges[i - 1][2]}'`, ranges[i][2]);
  }
  return tensors;
}

/**
 * The header block (length prefix + JSON padded with spaces to a multiple of 8, so data starts
 * aligned) for tensors laid out back to back in the given order. Lets a writer stream the data.
 */
export function safetensorsHeader(specs: TensorSpec[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header[METADATA] = metadata;
  let offset = 0;
  for (const s of specs) {
    if (s.name === METADATA || Object.hasOwn(header, s.name)) throw new Error(`duplicate or reserved tensor name '${s.name}'`);
    const n = tensorByteLength(s);
    header[s.name] = { dtype: s.dtype, shape: s.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/** Serialises tensors (in the given order) into one safetensors file. */
export function writeSafetensors(tensors: (TensorSpec & { data: Uint8Array })[], metadata?: Record<string, string>): Uint8Array {
  for (const t of tensors) {
    const n = tensorByteLength(t);
    if (t.data.length !== n) throw new Error(`tensor '${t.name}': ${t.data.length} bytes given, ${t.dtype} ${JSON.stringify(t.shape)} needs ${n}`);
  }
  const head = safetensorsHeader(tensors, metadata);
  const out = new Uint8Array(head.length + tensors.reduce((a, t) => a + t.data.length, 0));
  out.set(head, 0);
  let o = head.length;
  for (const t of tensors) {
    out.set(t.data, o);
    o += t.data.length;
  }
  return out;
}
