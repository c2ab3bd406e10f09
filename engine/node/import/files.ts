// Random-access reads of large checkpoint files (a tensor at a time, never the whole file), and the
// header of a safetensors file read that way.
import { open, type FileHandle } from 'node:fs/promises';
import { ModelFormatError } from '../../common/errors.js';
import { DTYPE_SIZES, type Dtype } from '../../common/safetensors.js';
import { GgufNeedMoreBytes, parseGgufHeader, type GgufHeader } from '../../common/formats/gguf.js';

export class FileReader {
  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  static async open(file: string): Promise<FileReader> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelFormatError(file, code === 'ENOENT' ? 'file is missing' : `cannot read (${(e as Error).message})`);
    }
    const { size } = await fh.stat();
    return new FileReader(file, fh, size);
  }

  /** Exactly `length` bytes at `offset` (a ModelFormatError if the file is shorter). */
  async read(offset: number, length: number, tensor?: string): Promise<Uint8Array> {
    if (offset + length > this.size) throw new ModelFormatError(this.file, `bytes [${offset}, ${offset + length}) are past the end of the file (${this.size} bytes)`, tensor);
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new ModelFormatError(this.file, `file ended while reading bytes [${offset}, ${offset + length})`, tensor);
      done += bytesRead;
    }
    return buf;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export interface SafetensorsEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Absolute file offset. */
  offset: number;
  byteLength: number;
}

const MAX_HEADER_BYTES = 100_000_000;

/** The tensor table of a safetensors file, validated against the file size (as parseSafetensors). */
export async function readSafetensorsIndex(r: FileReader): Promise<Map<string, SafetensorsEntry>> {
  const fail = (problem: string, tensor?: string): never => {
    throw new ModelFormatError(r.file, problem, tensor);
  };
  if (r.size < 8) fail(`truncated: ${r.size} bytes, a safetensors file starts with an 8-byte header length`);
  const headerLen = Number(new DataView((await r.read(0, 8)).buffer).getBigUint64(0, true));
  if (headerLen > r.size - 8) fail(`header length ${headerLen} goes beyond the end of the file (${r.size} bytes); truncated or not safetensors`);
  if (headerLen > MAX_HEADER_BYTES) fail(`header length ${headerLen} is too large`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await r.read(8, headerLen)));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const out = new Map<string, SafetensorsEntry>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: o } = (entry ?? {}) as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZES, dtype)) fail(`unknown dtype ${JSON.stringify(dtype)}`, name);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
    if (!Array.isArray(o) || o.length !== 2 || !o.every((x) => Number.isSafeInteger(x) && x >= 0) || o[0] > o[1]) fail(`data_offsets ${JSON.stringify(o)} is not [begin, end]`, name);
    const [begin, end] = o as [number, number];
    if (dataStart + end > r.size) fail(`data_offsets [${begin}, ${end}] go beyond the data (${r.size - dataStart} bytes); file truncated?`, name);
    const need = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_SIZES[dtype as Dtype];
    if (end - begin !== need) fail(`holds ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${need}`, name);
    out.set(name, { name, dtype: dtype as Dtype, shape: shape as number[], offset: dataStart + begin, byteLength: end - begin });
  }
  const sorted = [...out.values()].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].byteLength) fail(`data overlaps tensor '${sorted[i - 1].name}'`, sorted[i].name);
  }
  return out;
}

/** Parses a GGUF header, reading only as much of the file as the header needs. */
export async function readGgufHeader(r: FileReader): Promise<GgufHeader> {
  let n = Math.min(r.size, 1 << 20);
  for (;;) {
    try {
      return parseGgufHeader(await r.read(0, n), r.file, r.size);
    } catch (e) {
      if (!(e instanceof GgufNeedMoreBytes)) throw e;
      n = Math.min(r.size, Math.max(n * 2, e.needAtLeast));
    }
  }
}
