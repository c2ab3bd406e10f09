// GGUF container and ternary block codecs (engine/common/formats).
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../../engine/common/errors.js';
import { gguf, ggmlTensorBytes, ggufLayout, parseGgufHeader, writeGguf, GgufNeedMoreBytes } from '../../../engine/common/formats/gguf.js';
import {
  bf16BytesToF32, decodeHfPacked, decodeI2S, decodeTq1_0, decodeTq2_0, encodeHfPacked, encodeI2S, encodeTq1_0, encodeTq2_0, f32ToBf16Bytes,
} from '../../../engine/common/formats/ternary-codecs.js';
import { Rng } from '../../../engine/common/random-model.js';
import { dequantize, quantizeQ4_K, quantizeQ6_K, quantizeQ8_0 } from '../../../engine/common/formats/kquants.js';

function randomTernary(n: number, seed: number): Int8Array {
  const rng = new Rng(seed);
  return Int8Array.from({ length: n }, () => (rng.nextU32() % 3) - 1);
}

describe('GGUF container', () => {
  const metadata = [
    ['general.architecture', gguf.str('bitnet')],
    ['a.u8', gguf.u8(200)],
    ['a.i32', gguf.i32(-5)],
    ['a.u32', gguf.u32(4000000000)],
    ['a.u64', gguf.u64(2n ** 60n)],
    ['a.f32', gguf.f32(0.5)],
    ['a.f64', gguf.f64(1e-300)],
    ['a.bool', gguf.bool(true)],
    ['a.strs', gguf.arr('string', ['x', 'ü', ''])],
    ['a.ints', gguf.arr('i32', [1, -2, 3])],
  ] as const;

  it('writes and reads back metadata and tensors at aligned offsets', () => {
    const t1 = new Uint8Array(ggmlTensorBytes('TQ2_0', [256, 2])).map((_, i) => i & 0x55);
    const t2 = new Uint8Array(12).map((_, i) => i);
    const bytes = writeGguf(metadata, [
      { name: 'w', type: 'TQ2_0', ne: [256, 2], data: t1 },
      { name: 'n', type: 'F32', ne: [3], data: t2 },
    ]);
    const h = parseGgufHeader(bytes, 'x.gguf');
    expect(h.version).toBe(3);
    expect([...h.metadata.keys()]).toEqual(metadata.map(([k]) => k));
    expect(h.metadata.get('a.u64')!.value).toBe(2n ** 60n);
    expect(h.metadata.get('a.strs')!.value).toEqual(['x', 'ü', '']);
    expect(h.metadata.get('a.f64')!.value).toBe(1e-300);
    expect(h.tensors.map((t) => [t.name, t.type, t.ne, t.byteLength])).toEqual([['w', 'TQ2_0', [256, 2], 132], ['n', 'F32', [3], 12]]);
    for (const t of h.tensors) expect(t.offset % 32).toBe(0);
    expect(bytes.subarray(h.tensors[0].offset, h.tensors[0].offset + 132)).toEqual(t1);
    expect(bytes.subarray(h.tensors[1].offset, h.tensors[1].offset + 12)).toEqual(t2);
  });

  it('honours general.alignment and asks for more bytes when given a prefix', () => {
    const layout = ggufLayout([['general.alignment', gguf.u32(64)]], [{ name: 'a', type: 'F16', ne: [3] }, { name: 'b', type: 'I2_S', ne: [128, 2] }]);
    expect(layout.tensors.map((t) => t.offset % 64)).toEqual([0, 0]);
    expect(layout.tensors[1].byteLength).toBe(64 + 32);
    const bytes = writeGguf([['general.alignment', gguf.u32(64)]], [{ name: 'a', type: 'F16', ne: [3], data: new Uint8Array(6) }]);
    expect(() => parseGgufHeader(bytes.subarray(0, 20), 'x.gguf', bytes.length)).toThrow(GgufNeedMoreBytes);
    expect(parseGgufHeader(bytes, 'x.gguf').alignment).toBe(64);
  });

  it('refuses bad input with the file, the tensor or key and the reason', () => {
    const good = writeGguf([['k', gguf.str('v')]], [{ name: 'w', type: 'F32', ne: [4], data: new Uint8Array(16) }]);
    const bad = (b: Uint8Array, re: RegExp) => {
      let err: unknown;
      try {
        parseGgufHeader(b, 'bad.gguf');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelFormatError);
      expect((err as Error).message).toMatch(/^bad\.gguf: /);
      expect((err as Error).message).toMatch(re);
    };
    const copy = () => Uint8Array.from(good);
    const wrongMagic = copy();
    wrongMagic[0] = 0x47 + 1;
    bad(wrongMagic, /not a GGUF file/);
    const w = parseGgufHeader(good, 'x').tensors[0];
    bad(good.subarray(0, w.offset + w.byteLength - 1), /tensor 'w'.*beyond the end of the file/);
    bad(good.subarray(0, 30), /truncated/);
    const v = copy();
    v[4] = 9;
    bad(v, /unsupported GGUF version 9/);
    // Unknown tensor type: the u32 after the one dim of tensor 'w'.
    const nameAt = Buffer.from(good).indexOf(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x77])); // string 'w'
    const typePos = nameAt + 9 + 4 + 8; // after the name, n_dims and ne[0]
    const t = copy();
    t[typePos] = 99;
    bad(t, /tensor 'w'.*unknown ggml tensor type 99/);
  });
});

describe('ternary codecs', () => {
  it('TQ2_0: byte m of each 32-byte half holds elements m, m+32, m+64, m+96 (bits 0-1 first)', () => {
    const v = new Int8Array(256);
    v[0] = 1; // code 2 at bits 0-1 of byte 0
    v[32] = -1; // code 0 at bits 2-3 of byte 0
    v[129] = 1; // second half: byte 32 + 1, bits 0-1
    const b = encodeTq2_0(v, 0.5);
    expect(b.length).toBe(66);
    expect(b[0]).toBe(0b01_01_00_10);
    expect(b[33] & 3).toBe(2);
    expect(b[64] | (b[65] << 8)).toBe(0x3800); // f16 0.5
    const r = randomTernary(1024, 1);
    const d = decodeTq2_0(encodeTq2_0(r, 0.25), 1024);
    expect(d.values).toEqual(r);
    expect([...d.d]).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('TQ1_0 round-trips every 5-trit and 4-trit combination (llama.cpp decoding formula)', () => {
    const r = randomTernary(256 * 40, 2);
    // Make sure all 243 five-trit patterns of the first byte position occur.
    for (let q = 0; q < 243; q++) for (let n = 0; n < 5; n++) r[(q % 40) * 256 + 0 + 32 * n] = (Math.floor(q / 3 ** (4 - n)) % 3) - 1;
    const bytes = encodeTq1_0(r, 1);
    expect(bytes.length).toBe(54 * 40);
    expect(decodeTq1_0(bytes, r.length).values).toEqual(r);
    const all = new Int8Array(256).fill(1);
    expect(encodeTq1_0(all, 1)[0]).toBe(255); // q = 242 -> ceil(242 * 256 / 243)
  });

  it('I2_S: byte j holds element j in bits 7-6, j+32, j+64, j+96 below; f32 scale in the tail', () => {
    const v = new Int8Array(256);
    v[0] = 1; v[32] = -1; v[96] = 0; v[128 + 5] = 1;
    const b = encodeI2S(v, 0.75);
    expect(b.length).toBe(64 + 32);
    expect(b[0]).toBe(0b10_00_01_01);
    expect(b[32 + 5] >> 6).toBe(2);
    expect(new DataView(b.buffer).getFloat32(64, true)).toBe(0.75);
    const r = randomTernary(128 * 6, 3);
    const d = decodeI2S(encodeI2S(r, 0.125), r.length);
    expect(d.values).toEqual(r);
    expect(d.scale).toBe(0.125);
    const bad = Uint8Array.from(b);
    bad[3] = 0xff;
    expect(() => decodeI2S(bad, 256)).toThrow(/code 3 in byte 3/);
  });

  it('HF packed (out/4, in): row block i in bits 2i..2i+1, code = value + 1', () => {
    const rows = 8, cols = 3;
    const v = new Int8Array(rows * cols);
    v[0 * cols + 0] = 1; // row 0 -> block 0, packed row 0
    v[6 * cols + 2] = -1; // row 6 -> block 3 (P = 2), packed row 0, bits 6-7
    const p = encodeHfPacked(v, rows, cols);
    expect(p.length).toBe(6);
    expect(p[0]).toBe(0b01_01_01_10);
    expect(p[2] >> 6).toBe(0);
    const r = randomTernary(16 * 12, 4);
    expect(decodeHfPacked(encodeHfPacked(r, 16, 12), 16, 12)).toEqual(r);
    const bad = encodeHfPacked(r, 16, 12);
    bad[5] |= 0xc0;
    expect(() => decodeHfPacked(bad, 16, 12)).toThrow(/code 3 in packed byte 5/);
  });

  it('bf16 rounds to nearest even and converts back exactly', () => {
    const x = Float32Array.of(1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.140625, 0);
    const back = bf16BytesToF32(f32ToBf16Bytes(x));
    expect([...back]).toEqual([1, -2.5, 1, 1 + 4 * 2 ** -8, 3.140625, 0]);
  });
});

describe('embedding block types (Q8_0, Q6_K, Q4_K)', () => {
  const rng = new Rng(5);
  const x = Float32Array.from({ length: 1024 }, () => 0.1 * rng.normal());
  it.each([
    ['Q8_0', quantizeQ8_0, 34 * 32, 1 / 127],
    ['Q6_K', quantizeQ6_K, 210 * 4, 1 / 31],
    ['Q4_K', quantizeQ4_K, 144 * 4, 1 / 12],
  ] as const)('%s: block size and round-trip error within its step', (type, quantize, bytes, rel) => {
    const q = quantize(x);
    expect(q.length).toBe(bytes);
    const y = dequantize(type, q, x.length);
    const amax = Math.max(...x.map(Math.abs));
    for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(amax * rel);
    expect(() => dequantize(type, q.subarray(1), x.length)).toThrow(RangeError);
  });

  it('Q8_0 decodes d * q exactly (hand-made block)', () => {
    const b = new Uint8Array(34);
    b[0] = 0x00; b[1] = 0x38; // f16 0.5
    b[2] = 3; b[3] = 0xfe; // q = 3, -2
    expect([...dequantize('Q8_0', b, 32).subarray(0, 3)]).toEqual([1.5, -1, 0]);
  });
});
