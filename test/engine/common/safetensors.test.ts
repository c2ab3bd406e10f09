import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../../engine/common/errors.js';
import { f16BytesToF32, f32ToF16Bytes, floatToHalf, halfToFloat } from '../../../engine/common/f16.js';
import { parseSafetensors, writeSafetensors } from '../../../engine/common/safetensors.js';

const enc = new TextEncoder();

/** A file with a hand-written header (to build invalid files the writer refuses to make). */
function rawFile(header: unknown, dataLen: number, headerText?: string): Uint8Array {
  const json = enc.encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors', () => {
  const a = { name: 'a', dtype: 'F32' as const, shape: [2, 3], data: new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer) };
  const b = { name: 'b', dtype: 'U8' as const, shape: [5], data: Uint8Array.of(1, 2, 3, 4, 5) };
  const c = { name: 'c', dtype: 'F16' as const, shape: [0], data: new Uint8Array(0) };

  it('round trips tensors and metadata, returning views', () => {
    const bytes = writeSafetensors([a, b, c], { format: 'pt' });
    const dv = new DataView(bytes.buffer);
    expect(Number(dv.getBigUint64(0, true)) % 8).toBe(0);
    const t = parseSafetensors(bytes, 'm.safetensors');
    expect([...t.keys()]).toEqual(['a', 'b', 'c']);
    expect(t.get('a')!.shape).toEqual([2, 3]);
    expect([...new Float32Array(new Uint8Array(t.get('a')!.data).buffer)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...t.get('b')!.data]).toEqual([1, 2, 3, 4, 5]);
    expect(t.get('b')!.data.buffer).toBe(bytes.buffer);
    expect(t.get('c')!.data.length).toBe(0);
  });

  it('refuses a data size that does not match dtype and shape', () => {
    expect(() => writeSafetensors([{ ...b, shape: [6] }])).toThrow(/'b'/);
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', () => Uint8Array.of(1, 2, 3), /truncated/],
    ['a header length beyond the file', () => writeSafetensors([a]).subarray(0, 20), /header length \d+ goes beyond/],
    ['a truncated data section', () => { const f = writeSafetensors([a, b]); return f.subarray(0, f.length - 2); }, /tensor 'b'.*beyond the data/],
    ['a header that is not JSON', () => rawFile(null, 0, '{"a": '), /not valid JSON/],
    ['a header that is a list', () => rawFile([1], 0), /not a JSON object/],
    ['an unknown dtype', () => rawFile({ x: { dtype: 'F12', shape: [1], data_offsets: [0, 2] } }, 2), /tensor 'x': unknown dtype "F12"/],
    ['a bad shape', () => rawFile({ x: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, 1), /tensor 'x': shape/],
    ['bad offsets', () => rawFile({ x: { dtype: 'U8', shape: [1], data_offsets: [1] } }, 1), /tensor 'x': data_offsets/],
    ['reversed offsets', () => rawFile({ x: { dtype: 'U8', shape: [0], data_offsets: [2, 1] } }, 4), /end before/],
    ['a size mismatch', () => rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 8), /tensor 'x': holds 4 bytes but F32 \[2\] needs 8/],
    ['overlapping tensors', () => rawFile({ x: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, y: { dtype: 'U8', shape: [4], data_offsets: [2, 6] } }, 6), /tensor 'y': data overlaps tensor 'x'/],
    ['bad metadata', () => rawFile({ __metadata__: { a: 1 } }, 0), /__metadata__/],
  ];
  for (const [what, make, re] of cases) {
    it(`refuses ${what}`, () => {
      const f = () => parseSafetensors(make(), '/m/model.safetensors');
      expect(f).toThrow(ModelFormatError);
      expect(f).toThrow(re);
      expect(f).toThrow(/^\/m\/model\.safetensors: /);
    });
  }
});

describe('f16', () => {
  it('converts exactly representable values both ways', () => {
    const xs = [0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 3 * 2 ** -24, 1 + 2 ** -10];
    expect([...f16BytesToF32(f32ToF16Bytes(Float32Array.from(xs)))]).toEqual(xs);
  });

  it('rounds to nearest even, overflows to infinity, underflows to zero', () => {
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // tie -> even mantissa
    expect(halfToFloat(floatToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9); // tie -> even (up)
    expect(halfToFloat(floatToHalf(1 + 2 ** -11 + 2 ** -20))).toBe(1 + 2 ** -10);
    expect(halfToFloat(floatToHalf(2 ** -25))).toBe(0); // subnormal tie -> even (0)
    expect(halfToFloat(floatToHalf(3 * 2 ** -25))).toBe(2 ** -23);
    expect(halfToFloat(floatToHalf(70000))).toBe(Infinity);
    expect(halfToFloat(floatToHalf(-1e-10))).toBe(-0);
    expect(halfToFloat(floatToHalf(65519))).toBe(65504);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });
});
