// GGUF (llama.cpp's model container, version 2/3), reader and writer. Layout, all little-endian:
//   magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count x (string key | u32 value type | value)        string = u64 length + UTF-8 bytes
//   tensor_count x (string name | u32 n_dims | u64 ne[n_dims] | u32 ggml type | u64 offset)
//   padding to `general.alignment` (default 32) | tensor data (each offset relative to here, aligned)
// ne[0] is the contiguous (innermost) dimension: a PyTorch [out, in] matrix is ne = [in, out].
// The reader validates everything against the file size and throws ModelFormatError naming the
// file, the key or tensor and the problem; it never allocates more than the bytes it was given.
import { ModelFormatError } from '../errors.js';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types (gguf.h enum gguf_type). */
export const GGUF_VALUE_TYPES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];
export type GgufScalarType = Exclude<GgufValueType, 'array'>;
export type GgufScalar = number | bigint | boolean | string;

export type GgufMetaValue =
  | { type: GgufScalarType; value: GgufScalar }
  | { type: 'array'; itemType: GgufScalarType; value: GgufScalar[] };

/** Builders for metadata values: gguf.u32(5), gguf.str('x'), gguf.arr('string', [...]). */
export const gguf = {
  u8: (v: number): GgufMetaValue => ({ type: 'u8', value: v }),
  i32: (v: number): GgufMetaValue => ({ type: 'i32', value: v }),
  u32: (v: number): GgufMetaValue => ({ type: 'u32', value: v }),
  u64: (v: number | bigint): GgufMetaValue => ({ type: 'u64', value: v }),
  f32: (v: number): GgufMetaValue => ({ type: 'f32', value: v }),
  f64: (v: number): GgufMetaValue => ({ type: 'f64', value: v }),
  bool: (v: boolean): GgufMetaValue => ({ type: 'bool', value: v }),
  str: (v: string): GgufMetaValue => ({ type: 'string', value: v }),
  arr: (itemType: GgufScalarType, value: GgufScalar[]): GgufMetaValue => ({ type: 'array', itemType, value }),
};

/**
 * ggml tensor types: id -> name, elements per block, bytes per block. I2_S (id 36) is bitnet.cpp's
 * (microsoft/BitNet llama.cpp fork): 2 bits per weight plus a 32-byte tail holding one f32 scale
 * per tensor, so its size is not block based (see ggmlTensorBytes).
 */
export const GGML_TYPES = {
  F32: { id: 0, block: 1, bytes: 4 },
  F16: { id: 1, block: 1, bytes: 2 },
  Q4_0: { id: 2, block: 32, bytes: 18 },
  Q4_1: { id: 3, block: 32, bytes: 20 },
  Q5_0: { id: 6, block: 32, bytes: 22 },
  Q5_1: { id: 7, block: 32, bytes: 24 },
  Q8_0: { id: 8, block: 32, bytes: 34 },
  Q8_1: { id: 9, block: 32, bytes: 36 },
  Q2_K: { id: 10, block: 256, bytes: 84 },
  Q3_K: { id: 11, block: 256, bytes: 110 },
  Q4_K: { id: 12, block: 256, bytes: 144 },
  Q5_K: { id: 13, block: 256, bytes: 176 },
  Q6_K: { id: 14, block: 256, bytes: 210 },
  Q8_K: { id: 15, block: 256, bytes: 292 },
  I8: { id: 24, block: 1, bytes: 1 },
  I16: { id: 25, block: 1, bytes: 2 },
  I32: { id: 26, block: 1, bytes: 4 },
  I64: { id: 27, block: 1, bytes: 8 },
  F64: { id: 28, block: 1, bytes: 8 },
  BF16: { id: 30, block: 1, bytes: 2 },
  TQ1_0: { id: 34, block: 256, bytes: 54 },
  TQ2_0: { id: 35, block: 256, bytes: 66 },
  I2_S: { id: 36, block: 4, bytes: 1 },
} as const;
export type GgmlType = keyof typeof GGML_TYPES;
const TYPE_BY_ID = new Map<number, GgmlType>(Object.entries(GGML_TYPES).map(([name, t]) => [t.id, name as GgmlType]));

/** bitnet.cpp's I2_S tail after the 2-bit codes: the f32 tensor scale, padded to 32 bytes. */
export const I2S_TAIL_BYTES = 32;

/** Bytes of a tensor of `type` with dims `ne` (ne[0] innermost); throws RangeError when impossible. */
export function ggmlTensorBytes(type: GgmlType, ne: readonly number[]): number {
  const t = GGML_TYPES[type];
  const n = ne.reduce((a, b) => a * b, 1);
  if (type === 'I2_S') {
    if (n % 128 !== 0) throw new RangeError(`I2_S needs a multiple of 128 elements, got ${n}`);
    return n / 4 + I2S_TAIL_BYTES;
  }
  if (ne[0] % t.block !== 0) throw new RangeError(`${type} needs ne[0] to be a multiple of ${t.block}, got ${ne[0]}`);
  return (n / t.block) * t.bytes;
}

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** ne[0] first (innermost). */
  ne: number[];
  /** Absolute offset of the data in the file. */
  offset: number;
  byteLength: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufMetaValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the data section. */
  dataOffset: number;
}

/**
 * Thrown when `bytes` holds only the start of a file and the header goes on past it: read more of
 * the file and parse again. Never thrown when `bytes` is the whole file.
 */
export class GgufNeedMoreBytes extends Error {
  constructor(readonly needAtLeast: number) {
    super(`GGUF header needs more than ${needAtLeast} bytes`);
    this.name = 'GgufNeedMoreBytes';
  }
}

// A string or array this long cannot be real (and would make us allocate absurd amounts).
const MAX_STRING_BYTES = 1 << 26;
const MAX_DIMS = 4;

class Cursor {
  private readonly dv: DataView;
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly fileSize: number,
    private readonly fail: (problem: string, where?: string) => never,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number, what: string): void {
    if (this.pos + n <= this.bytes.length) return;
    if (this.bytes.length < this.fileSize) throw new GgufNeedMoreBytes(this.pos + n);
    this.fail(`truncated: ${what} at byte ${this.pos} needs ${n} bytes but the file has ${this.fileSize}`);
  }
  u8(w: string) { this.need(1, w); return this.dv.getUint8(this.pos++); }
  i8(w: string) { this.need(1, w); return this.dv.getInt8(this.pos++); }
  u16(w: string) { this.need(2, w); const v = this.dv.getUint16(this.pos, true); this.pos += 2; return v; }
  i16(w: string) { this.need(2, w); const v = this.dv.getInt16(this.pos, true); this.pos += 2; return v; }
  u32(w: string) { this.need(4, w); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(w: string) { this.need(4, w); const v = this.dv.getInt32(this.pos, true); this.pos += 4; return v; }
  f32(w: string) { this.need(4, w); const v = this.dv.getFloat32(this.pos, true); this.pos += 4; return v; }
  f64(w: string) { this.need(8, w); const v = this.dv.getFloat64(this.pos, true); this.pos += 8; return v; }
  u64big(w: string) { this.need(8, w); const v = this.dv.getBigUint64(this.pos, true); this.pos += 8; return v; }
  i64big(w: string) { this.need(8, w); const v = this.dv.getBigInt64(this.pos, true); this.pos += 8; return v; }
  /** u64 that must fit a safe integer and be at most `max`. */
  count(w: string, max: number): number {
    const v = this.u64big(w);
    if (v > BigInt(max)) this.fail(`${w} ${v} is larger than possible here (at most ${max})`);
    return Number(v);
  }
  string(w: string): string {
    const n = this.count(`${w} length`, Math.min(MAX_STRING_BYTES, this.fileSize));
    this.need(n, w);
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(s);
    } catch {
      return this.fail(`${w} is not valid UTF-8`);
    }
  }
}

const toNumber = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v);

function readScalar(c: Cursor, type: GgufScalarType, w: string, fail: (p: string) => never): GgufScalar {
  switch (type) {
    case 'u8': return c.u8(w);
    case 'i8': return c.i8(w);
    case 'u16': return c.u16(w);
    case 'i16': return c.i16(w);
    case 'u32': return c.u32(w);
    case 'i32': return c.i32(w);
    case 'f32': return c.f32(w);
    case 'f64': return c.f64(w);
    case 'u64': return toNumber(c.u64big(w));
    case 'i64': return toNumber(c.i64big(w));
    case 'string': return c.string(w);
    case 'bool': {
      const b = c.u8(w);
      if (b > 1) fail(`${w}: bool byte is ${b}, expected 0 or 1`);
      return b === 1;
    }
  }
}

// Smallest encoded size of one element, to refuse array counts the file cannot hold.
const MIN_ITEM_BYTES: Record<GgufScalarType, number> = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8, string: 8 };

function valueType(id: number, w: string, fail: (p: string) => never): GgufValueType {
  const t = GGUF_VALUE_TYPES[id];
  if (t === undefined) fail(`${w}: unknown metadata value type ${id}`);
  return t;
}

/**
 * Parses the header of a GGUF file. `bytes` is the file or a prefix of it (`fileSize` is then the
 * full size): a prefix too short throws GgufNeedMoreBytes. Tensor data is not touched.
 */
export function parseGgufHeader(bytes: Uint8Array, file: string, fileSize = bytes.length): GgufHeader {
  const fail = (problem: string, where?: string): never => {
    throw new ModelFormatError(file, where === undefined ? problem : `${where}: ${problem}`);
  };
  const c = new Cursor(bytes, fileSize, fail);
  c.need(4, 'magic');
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== GGUF_MAGIC) fail(`not a GGUF file (magic ${JSON.stringify(magic)}, expected "GGUF")`);
  c.pos = 4;
  const version = c.u32('version');
  if (version !== 2 && version !== 3) fail(`unsupported GGUF version ${version} (2 and 3 are supported)`);
  const nTensors = c.count('tensor count', Math.floor(fileSize / 24));
  const nKv = c.count('metadata count', Math.floor(fileSize / 12));

  const metadata = new Map<string, GgufMetaValue>();
  for (let i = 0; i < nKv; i++) {
    const key = c.string(`metadata key #${i}`);
    if (metadata.has(key)) fail(`duplicate metadata key '${key}'`);
    const w = `metadata '${key}'`;
    const type = valueType(c.u32(`${w} type`), w, fail);
    if (type === 'array') {
      const itemType = valueType(c.u32(`${w} item type`), w, fail);
      if (itemType === 'array') fail(`${w}: nested arrays are not supported`);
      const it = itemType as GgufScalarType;
      const n = c.count(`${w} length`, Math.floor((fileSize - c.pos) / MIN_ITEM_BYTES[it]));
      const value: GgufScalar[] = new Array(n);
      for (let j = 0; j < n; j++) value[j] = readScalar(c, it, w, fail);
      metadata.set(key, { type: 'array', itemType: it, value });
    } else {
      metadata.set(key, { type, value: readScalar(c, type, w, fail) });
    }
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const al = metadata.get('general.alignment');
  if (al) {
    if (al.type !== 'u32' || typeof al.value !== 'number' || al.value === 0 || (al.value & (al.value - 1)) !== 0) {
      fail(`metadata 'general.alignment' must be a u32 power of two, got ${al.type} ${String(al.value)}`);
    }
    alignment = al.value as number;
  }

  const infos: { name: string; ne: number[]; type: GgmlType; rel: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = c.string(`tensor #${i} name`);
    const w = `tensor '${name}'`;
    if (names.has(name)) fail('duplicate tensor name', w);
    names.add(name);
    const nDims = c.u32(`${w} dimension count`);
    if (nDims < 1 || nDims > MAX_DIMS) fail(`${nDims} dimensions (1 to ${MAX_DIMS} allowed)`, w);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(c.count(`${w} ne[${d}]`, Number.MAX_SAFE_INTEGER));
    const typeId = c.u32(`${w} type`);
    const type = TYPE_BY_ID.get(typeId);
    if (type === undefined) fail(`unknown ggml tensor type ${typeId}`, w);
    const rel = c.count(`${w} offset`, fileSize);
    if (rel % alignment !== 0) fail(`data offset ${rel} is not a multiple of the alignment ${alignment}`, w);
    infos.push({ name, ne, type: type!, rel });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;

  const tensors: GgufTensorInfo[] = infos.map(({ name, ne, type, rel }) => {
    let byteLength = 0;
    const elements = ne.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(elements) || elements > fileSize * 8) fail(`shape ${JSON.stringify(ne)} is larger than the file could hold`, `tensor '${name}'`);
    try {
      byteLength = ggmlTensorBytes(type, ne);
    } catch (e) {
      fail((e as Error).message, `tensor '${name}'`);
    }
    const offset = dataOffset + rel;
    if (offset + byteLength > fileSize) {
      fail(`data [${offset}, ${offset + byteLength}) goes beyond the end of the file (${fileSize} bytes); truncated or tensor out of bounds`, `tensor '${name}'`);
    }
    return { name, type, ne, offset, byteLength };
  });
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.byteLength) fail(`data overlaps tensor '${prev.name}'`, `tensor '${sorted[i].name}'`);
  }
  return { version, metadata, tensors, alignment, dataOffset };
}

// ---------------------------------------------------------------------------------------------
// Writer

export interface GgufTensorSpec {
  name: string;
  type: GgmlType;
  /** ne[0] first (innermost): a row-major [rows, cols] matrix is [cols, rows]. */
  ne: number[];
}

export interface GgufLayout {
  /** Header bytes including the padding before the data section. */
  header: Uint8Array;
  /** Per tensor (same order as given): absolute file offset and byte length. */
  tensors: { offset: number; byteLength: number }[];
  /** Total file size: tensors are padded to the alignment, the last one too. */
  fileSize: number;
  alignment: number;
}

class ByteSink {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(1 << 16);
  private n = 0;
  length = 0;
  private room(k: number): DataView {
    if (this.n + k > this.cur.length) {
      this.chunks.push(this.cur.subarray(0, this.n));
      this.cur = new Uint8Array(Math.max(1 << 16, k));
      this.n = 0;
    }
    const dv = new DataView(this.cur.buffer, this.n, k);
    this.n += k;
    this.length += k;
    return dv;
  }
  u8(v: number) { this.room(1).setUint8(0, v); }
  i8(v: number) { this.room(1).setInt8(0, v); }
  u16(v: number) { this.room(2).setUint16(0, v, true); }
  i16(v: number) { this.room(2).setInt16(0, v, true); }
  u32(v: number) { this.room(4).setUint32(0, v, true); }
  i32(v: number) { this.room(4).setInt32(0, v, true); }
  f32(v: number) { this.room(4).setFloat32(0, v, true); }
  f64(v: number) { this.room(8).setFloat64(0, v, true); }
  u64(v: number | bigint) { this.room(8).setBigUint64(0, BigInt(v), true); }
  i64(v: number | bigint) { this.room(8).setBigInt64(0, BigInt(v), true); }
  bytes(b: Uint8Array) {
    const dv = this.room(b.length);
    new Uint8Array(dv.buffer, dv.byteOffset, b.length).set(b);
  }
  string(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of [...this.chunks, this.cur.subarray(0, this.n)]) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function writeScalar(s: ByteSink, type: GgufScalarType, v: GgufScalar, key: string): void {
  const bad = () => new TypeError(`metadata '${key}': ${JSON.stringify(typeof v === 'bigint' ? v.toString() : v)} is not a valid ${type}`);
  const int = (lo: number, hi: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad();
    return v;
  };
  switch (type) {
    case 'u8': return s.u8(int(0, 255));
    case 'i8': return s.i8(int(-128, 127));
    case 'u16': return s.u16(int(0, 65535));
    case 'i16': return s.i16(int(-32768, 32767));
    case 'u32': return s.u32(int(0, 2 ** 32 - 1));
    case 'i32': return s.i32(int(-(2 ** 31), 2 ** 31 - 1));
    case 'u64':
    case 'i64':
      if (typeof v !== 'bigint' && (typeof v !== 'number' || !Number.isSafeInteger(v))) throw bad();
      if (type === 'u64') { if (BigInt(v) < 0n) throw bad(); return s.u64(v); }
      return s.i64(v);
    case 'f32':
    case 'f64':
      if (typeof v !== 'number') throw bad();
      return type === 'f32' ? s.f32(v) : s.f64(v);
    case 'bool':
      if (typeof v !== 'boolean') throw bad();
      return s.u8(v ? 1 : 0);
    case 'string':
      if (typeof v !== 'string') throw bad();
      return s.string(v);
  }
}

/**
 * Lays out a GGUF v3 file: returns the header (with `general.alignment` honoured when given as a
 * u32) and where each tensor's data goes. Write `header`, then each tensor's bytes at its offset,
 * zero padding in between (see writeGguf). Keys keep the given order (put general.architecture first).
 */
export function ggufLayout(metadata: Iterable<[string, GgufMetaValue]>, tensors: GgufTensorSpec[]): GgufLayout {
  const entries = [...metadata];
  const keys = new Set<string>();
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  for (const [k, v] of entries) {
    if (keys.has(k)) throw new Error(`duplicate metadata key '${k}'`);
    keys.add(k);
    if (k === 'general.alignment') {
      if (v.type !== 'u32' || typeof v.value !== 'number' || v.value <= 0 || (v.value & (v.value - 1)) !== 0) throw new Error('general.alignment must be a u32 power of two');
      alignment = v.value;
    }
  }
  const names = new Set<string>();
  const sizes = tensors.map((t) => {
    if (names.has(t.name)) throw new Error(`duplicate tensor name '${t.name}'`);
    names.add(t.name);
    if (!(t.type in GGML_TYPES)) throw new Error(`tensor '${t.name}': unknown ggml type ${t.type}`);
    if (t.ne.length < 1 || t.ne.length > MAX_DIMS || !t.ne.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`tensor '${t.name}': ne ${JSON.stringify(t.ne)} must be 1 to ${MAX_DIMS} non-negative integers`);
    }
    try {
      return ggmlTensorBytes(t.type, t.ne);
    } catch (e) {
      throw new Error(`tensor '${t.name}': ${(e as Error).message}`);
    }
  });
  const pad = (n: number) => Math.ceil(n / alignment) * alignment;
  const s = new ByteSink();
  for (const ch of GGUF_MAGIC) s.u8(ch.charCodeAt(0));
  s.u32(3);
  s.u64(tensors.length);
  s.u64(entries.length);
  for (const [k, v] of entries) {
    s.string(k);
    s.u32(GGUF_VALUE_TYPES.indexOf(v.type));
    if (v.type === 'array') {
      s.u32(GGUF_VALUE_TYPES.indexOf(v.itemType));
      s.u64(v.value.length);
      for (const x of v.value) writeScalar(s, v.itemType, x, k);
    } else {
      writeScalar(s, v.type, v.value, k);
    }
  }
  let rel = 0;
  const rels = sizes.map((n) => {
    const r = rel;
    rel = pad(rel + n);
    return r;
  });
  tensors.forEach((t, i) => {
    s.string(t.name);
    s.u32(t.ne.length);
    for (const d of t.ne) s.u64(d);
    s.u32(GGML_TYPES[t.type].id);
    s.u64(rels[i]);
  });
  const body = s.finish();
  const header = new Uint8Array(pad(body.length));
  header.set(body);
  return {
    header,
    tensors: sizes.map((byteLength, i) => ({ offset: header.length + rels[i], byteLength })),
    fileSize: header.length + rel,
    alignment,
  };
}

/** A whole GGUF file in memory (small files and tests; engine/node/import streams large ones). */
export function writeGguf(metadata: Iterable<[string, GgufMetaValue]>, tensors: (GgufTensorSpec & { data: Uint8Array })[]): Uint8Array {
  const layout = ggufLayout(metadata, tensors);
  const out = new Uint8Array(layout.fileSize);
  out.set(layout.header);
  tensors.forEach((t, i) => {
    const { offset, byteLength } = layout.tensors[i];
    if (t.data.length !== byteLength) throw new Error(`tensor '${t.name}': ${t.data.length} bytes given, ${t.type} ${JSON.stringify(t.ne)} needs ${byteLength}`);
    out.set(t.data, offset);
  });
  return out;
}

/** Typed access to metadata: returns the value, or throws naming the key and the type found. */
export function ggufMeta(h: GgufHeader, file: string) {
  const get = (key: string) => h.metadata.get(key);
  const fail = (key: string, problem: string): never => {
    throw new ModelFormatError(file, `metadata '${key}': ${problem}`);
  };
  const INTS: GgufScalarType[] = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64'];
  return {
    has: (key: string) => h.metadata.has(key),
    int(key: string, fallback?: number): number {
      const v = get(key);
      if (!v) return fallback ?? fail(key, 'missing');
      if (v.type === 'array' || !INTS.includes(v.type) || typeof v.value !== 'number') return fail(key, `expected an integer, got ${v.type}`);
      return v.value as number;
    },
    float(key: string, fallback?: number): number {
      const v = get(key);
      if (!v) return fallback ?? fail(key, 'missing');
      if (v.type === 'array' || typeof v.value !== 'number') return fail(key, `expected a number, got ${v.type}`);
      return v.value;
    },
    str(key: string, fallback?: string): string {
      const v = get(key);
      if (!v) return fallback ?? fail(key, 'missing');
      if (v.type !== 'string') return fail(key, `expected a string, got ${v.type}`);
      return v.value as string;
    },
    bool(key: string, fallback?: boolean): boolean {
      const v = get(key);
      if (!v) return fallback ?? fail(key, 'missing');
      if (v.type !== 'bool') return fail(key, `expected a bool, got ${v.type}`);
      return v.value as boolean;
    },
    array(key: string, item: 'string' | 'int'): GgufScalar[] | undefined {
      const v = get(key);
      if (!v) return undefined;
      if (v.type !== 'array') return fail(key, `expected an array, got ${v.type}`);
      if (item === 'string' ? v.itemType !== 'string' : !INTS.includes(v.itemType)) return fail(key, `expected an array of ${item}s, got ${v.itemType}s`);
      return v.value;
    },
  };
}
