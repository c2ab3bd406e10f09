// The screened LM head (native/src/lm_head.h): the int8 copy's bound holds row by row for adversarial
// tables and hidden states on every kernel path and mode; the candidates always hold the exact top
// K after the repetition penalty (constructed ties included); re-scored rows are bit-identical to the
// full head, so sampleToken draws the same token; the native rule equals lm-head-screen.ts.
import { describe, expect, it } from 'vitest';
import { floatToHalf } from '../../engine/common/f16.js';
import { logitsNeed, screenCandidates, type LogitsNeed } from '../../engine/common/lm-head-screen.js';
import { Rng } from '../../engine/common/random-model.js';
import { applyRepetitionPenalty, sampleToken, seededRandom } from '../../engine/common/sampling.js';
import type { SamplingOptions } from '../../engine/common/api.js';
import type { NativeLmHead, NativeLmHeadMode } from '../../engine/node/native/addon.js';
import { addon, isas } from './helpers.js';

const ROWS = 1500;
const COLS = 200; // not a multiple of 64: the padded tail is exercised
const TIED = [40, 41, 42, 43, 44]; // identical rows aligned with h: exact ties at the top

/** Rows of many kinds: gaussian at scales 1e-3..10, all-equal, zero, one outlier, exact duplicates, one-ulp neighbours. */
function makeTable(rng: Rng, h: Float32Array): Float32Array {
  const w = new Float32Array(ROWS * COLS);
  for (let r = 0; r < ROWS; r++) {
    const row = w.subarray(r * COLS, (r + 1) * COLS);
    const scale = 10 ** (rng.next() * 4 - 3);
    const kind = r % 10;
    for (let j = 0; j < COLS; j++) row[j] = kind === 3 ? 0.75 * scale : kind === 4 && r < 100 ? 0 : rng.normal() * scale * 0.05;
    if (kind === 5) row[r % COLS] = 40 * scale;
    if (kind === 6 && r > 0) row.set(w.subarray((r - 1) * COLS, r * COLS)); // exact tie with the previous row
  }
  for (const r of TIED) for (let j = 0; j < COLS; j++) w[r * COLS + j] = Math.sign(h[j]) * 0.125;
  return w;
}

function toF16(w: Float32Array): Uint16Array {
  const out = Uint16Array.from(w, (x) => floatToHalf(x));
  // Near-ties: a row one f16 ulp away from its neighbour in one column.
  for (let r = 7; r < ROWS; r += 10) {
    out.copyWithin(r * COLS, (r - 1) * COLS, r * COLS);
    out[r * COLS + 3] ^= 1;
  }
  return out;
}

function hidden(kind: string, rng: Rng): Float32Array {
  const h = Float32Array.from({ length: COLS }, () => rng.normal());
  switch (kind) {
    case 'large': return h.map((x) => x * 3000);
    case 'outlier': h[11] = 6e4; return h;
    case 'equal': return h.fill(1.5);
    case 'tiny': return h.map((x) => x * 1e-36); // products underflow to subnormals
    case 'sparse': return h.map((x, i) => (i % 50 === 0 ? x : 0));
    default: return h;
  }
}

const HIDDEN = ['gaussian', 'large', 'outlier', 'equal', 'tiny', 'sparse'];
const MODES: NativeLmHeadMode[] = ['f32', 'int8'];

function heads(table: Uint16Array | Float32Array) {
  const out: [string, NativeLmHead][] = [];
  for (const isa of isas()) for (const mode of MODES) out.push([`${isa}/${mode}`, new (addon().LmHead)(table, ROWS, COLS, { isa, mode, threads: 2 })]);
  return out;
}

/** sampleToken's top k of the penalised logits plus every row tied with the k-th (its tie-break is by id). */
function trueTopK(full: Float32Array, need: LogitsNeed): number[] {
  const z = applyRepetitionPenalty(full, need.context, need.repetitionPenalty);
  const ids = Array.from(z.keys()).sort((a, b) => z[b] - z[a] || a - b);
  const kth = z[ids[need.k - 1]];
  return ids.filter((i, rank) => rank < need.k || z[i] === kth);
}

describe('screened LM head: the bound', () => {
  const rng = new Rng(11);
  const base = hidden('gaussian', rng);
  const w = makeTable(rng, base);
  for (const [what, table] of [['f16', toF16(w)], ['f32', w]] as const) {
    it(`|exact - zhat| <= bound on every row, ${what} table, every path and mode, adversarial h`, () => {
      for (const [name, head] of heads(table)) {
        expect(head.bytes).toBeGreaterThanOrEqual(ROWS * 256);
        for (const kind of HIDDEN) {
          const h = hidden(kind, new Rng(kind.length));
          const exact = head.exact(h);
          const a = head.approx(h);
          expect(a, `${name} ${kind}`).not.toBeNull();
          let bad = -1;
          for (let i = 0; i < ROWS && bad < 0; i++) if (!(Math.abs(exact[i] - a!.zhat[i]) <= a!.bound[i])) bad = i;
          expect(bad, `${name} ${kind}: row ${bad}`).toBe(-1);
        }
        // Not vacuous: on a gaussian h the bound is far below the spread of the logits.
        const a = head.approx(base)!;
        const spread = Math.max(...a.zhat) - Math.min(...a.zhat);
        const sorted = Float64Array.from(a.bound).sort();
        expect(sorted[ROWS >> 1], name).toBeLessThan(spread / 20);
      }
    });
  }

  it('builds the same int8 copy on every path: int8-mode estimates and bounds are bit-identical to portable', () => {
    const table = toF16(w);
    table[3 * COLS + 17] = 0x7c00; // +inf: a row without a bound (always re-scored)
    const build = (isa: string) => new (addon().LmHead)(table, ROWS, COLS, { isa: isa as never, mode: 'int8', threads: 2 });
    const ref = build('portable');
    for (const isa of isas().filter((x) => x !== 'portable')) {
      const head = build(isa);
      for (const kind of HIDDEN) {
        const h = hidden(kind, new Rng(kind.length + 1));
        const a = head.approx(h)!;
        const b = ref.approx(h)!;
        expect(a.zhat, `${isa} ${kind}`).toEqual(b.zhat);
        expect(a.bound, `${isa} ${kind}`).toEqual(b.bound);
        expect(a.bound[3]).toBe(Infinity);
      }
    }
  });

  it('refuses a non-finite h (approx null) and the screened head then runs in full', () => {
    const h = hidden('gaussian', new Rng(3));
    h[5] = NaN;
    const [, head] = heads(toF16(w))[0];
    expect(head.approx(h)).toBeNull();
    const s = head.screened(h, { k: 1, penalty: 1, context: new Int32Array(0) });
    expect(s.candidates).toBeNull();
    expect(s.logits).toEqual(head.exact(h));
  });
});

describe('screened LM head: candidates and sampling', () => {
  const rng = new Rng(5);
  const h = hidden('gaussian', rng);
  const table = toF16(makeTable(rng, h));
  const context = [TIED[0], TIED[3], 7, 17, 1499, 1499, -1, 5000];

  for (const [name, head] of heads(table)) {
    it(`${name}: candidates hold the exact top K (ties too), re-scored rows are bit-identical, draws are equal`, () => {
      const full = head.exact(h);
      for (const k of [1, 3, 5, 50, 100]) {
        for (const penalty of [1, 1.3, 0.6]) {
          const need: LogitsNeed = { k, repetitionPenalty: penalty, context };
          const s = head.screened(h, { k, penalty, context: Int32Array.from(context) });
          const cand = s.candidates!;
          expect(cand).not.toBeNull();
          expect(cand.length).toBeLessThan(ROWS / 2);
          const set = new Set(cand);
          for (const i of trueTopK(full, need)) expect(set.has(i), `k ${k} penalty ${penalty}: row ${i}`).toBe(true);
          for (let i = 0; i < ROWS; i++) expect(Object.is(s.logits[i], set.has(i) ? full[i] : -Infinity)).toBe(true);
          // The same rule in TS and in native.
          const a = head.approx(h)!;
          expect(addon().screenCandidates(a.zhat, a.bound, { k, penalty, context: Int32Array.from(context) })).toEqual(screenCandidates(a.zhat, a.bound, need));
          for (const temperature of [0, 0.7]) {
            const opts: SamplingOptions = { maxTokens: 1, temperature, topK: k, topP: temperature ? 0.9 : 1, repetitionPenalty: penalty, stop: [] };
            expect(logitsNeed(opts, context)?.k).toBe(temperature ? k : 1);
            for (let seed = 1; seed <= 8; seed++) {
              expect(sampleToken(s.logits, opts, context, seededRandom(seed))).toBe(sampleToken(full, opts, context, seededRandom(seed)));
            }
          }
        }
      }
    });
  }
});

describe('lm-head-screen.ts rule', () => {
  it('keeps every row tied with the k-th lower end and every row whose upper end reaches it', () => {
    const zhat = [5, 5, 5, 4, 1, 4.5];
    const bound = [0, 0, 0, 1, 0, 0.4];
    // lo = 5 5 5 3 1 4.1: the 2nd largest lo is 5; rows 0..2 (ties) and row 3 (hi 5) qualify.
    expect([...screenCandidates(zhat, bound, { k: 2, repetitionPenalty: 1, context: [] })]).toEqual([0, 1, 2, 3]);
    expect([...screenCandidates(zhat, bound, { k: 4, repetitionPenalty: 1, context: [] })]).toEqual([0, 1, 2, 3, 5]);
  });

  it('maps both ends through the penalty (divide above 0, multiply below) once per distinct id', () => {
    const zhat = [4, 3.9, -1, 2];
    const bound = [0, 0, 0.5, 0];
    // penalty 2 on id 0 (twice in the context): [2, 2] -> row 3 (2) ties it, row 1 leads.
    expect([...screenCandidates(zhat, bound, { k: 2, repetitionPenalty: 2, context: [0, 0, 2] })]).toEqual([0, 1, 3]);
    // penalty 0.5 raises a negative interval: [-1.5, -0.5] * 0.5 = [-0.75, -0.25].
    expect([...screenCandidates([-1, -0.5, -3], [0.5, 0, 0], { k: 1, repetitionPenalty: 0.5, context: [0] })]).toEqual([0, 1]);
  });

  it('keeps rows with a non-finite estimate or bound, and checks its arguments', () => {
    expect([...screenCandidates([1, NaN, 0], [0, 0, Infinity], { k: 1, repetitionPenalty: 1, context: [] })]).toEqual([0, 1, 2]);
    expect(() => screenCandidates([1], [0, 0], { k: 1, repetitionPenalty: 1, context: [] })).toThrow(/bound has 2/);
    expect(() => screenCandidates([1], [0], { k: 2, repetitionPenalty: 1, context: [] })).toThrow(/k must be/);
  });

  it('asks for the top 1 when greedy, the top k with top-k sampling, everything otherwise', () => {
    const s: SamplingOptions = { maxTokens: 4, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.2, stop: [] };
    expect(logitsNeed(s, [1, 2])).toEqual({ k: 1, repetitionPenalty: 1.2, context: [1, 2] });
    expect(logitsNeed({ ...s, temperature: 0.8, topK: 40 }, [])?.k).toBe(40);
    expect(logitsNeed({ ...s, temperature: 0.8 }, [])).toBeUndefined();
  });
});
