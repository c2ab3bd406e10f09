// Orthonormal Hadamard transform for BitNet v2's H-BitLinear (../shared/spec/bitnet.md).
//
// Width n = K * 2^k is transformed with H_n = (H_K ⊗ H_{2^k}) / sqrt(n), where
//   - H_{2^k} is Sylvester's matrix (entry (a, b) = (-1)^popcount(a & b)),
//   - H_K is paleyHadamard(K) (±1 entries, unnormalised), K = 1 for powers of two,
//   - input index = i * 2^k + j with i < K, j < 2^k (row-major [K, 2^k]): i picks the H_K factor.
// So y = H_n x is: reshape x to [K, 2^k], Walsh-Hadamard transform every row, multiply every column
// by H_K, scale by 1/sqrt(n). hadamardPlan picks the smallest K = odd(n) * 2^j with a Paley I matrix
// (2560 -> K 20, 6912 -> K 108, 12 * 2^k -> K 12). Paley matrices are not symmetric, so for K > 1
// the inverse is the transpose (pass inverse = true); for powers of two H_n is its own inverse.

export interface HadamardPlan {
  /** Order of the Paley factor (1 for powers of two). */
  K: number;
  /** The Sylvester (power of two) factor; K * pow2 = n. */
  pow2: number;
}

function isPrime(q: number): boolean {
  if (q < 2) return false;
  for (let d = 2; d * d <= q; d++) if (q % d === 0) return false;
  return true;
}

/** Order K has a Paley I matrix: q = K - 1 prime, q ≡ 3 (mod 4). */
function hasPaleyI(K: number): boolean {
  return isPrime(K - 1) && (K - 1) % 4 === 3;
}

export function hadamardPlan(n: number): HadamardPlan {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Hadamard transform: width ${n} is not a positive integer`);
  let odd = n;
  while (odd % 2 === 0) odd /= 2;
  if (odd === 1) return { K: 1, pow2: n };
  for (let K = odd; n % K === 0; K *= 2) if (hasPaleyI(K)) return { K, pow2: n / K };
  throw new RangeError(
    `Hadamard transform: no construction for width ${n} (= ${odd} * ${n / odd}); supported widths are 2^k and K * 2^k with K - 1 a prime ≡ 3 mod 4 (e.g. K = 12, 20, 44, 60, 68, 72, 84, 104, 108)`,
  );
}

/**
 * A Hadamard matrix of order K with ±1 entries, row-major K*K.
 * Paley I when q = K - 1 is a prime ≡ 3 (mod 4): with χ the quadratic character mod q and
 * Q[i][j] = χ(i - j), H = I + [[0, 1ᵀ], [-1, Q]] (first row all +1, first column -1 below it).
 * Otherwise, for even K, H_2 ⊗ H_{K/2} (so 40 = H_2 ⊗ H_20, and 2^j * K in general); K = 1, 2: Sylvester.
 */
export function paleyHadamard(K: number): Int8Array {
  if (K === 1) return Int8Array.of(1);
  if (K === 2) return Int8Array.of(1, 1, 1, -1);
  if (hasPaleyI(K)) {
    const q = K - 1;
    const chi = new Int8Array(q).fill(-1);
    chi[0] = 0;
    for (let x = 1; x < q; x++) chi[(x * x) % q] = 1;
    const h = new Int8Array(K * K);
    for (let c = 0; c < K; c++) h[c] = 1;
    for (let r = 1; r < K; r++) {
      h[r * K] = -1;
      for (let c = 1; c < K; c++) h[r * K + c] = (r === c ? 1 : 0) + chi[(((r - c) % q) + q) % q];
    }
    return h;
  }
  if (K % 2 === 0 && K > 2) {
    const half = K / 2;
    const sub = paleyHadamard(half);
    const h = new Int8Array(K * K);
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        const s = a && b ? -1 : 1;
        for (let r = 0; r < half; r++) for (let c = 0; c < half; c++) h[(a * half + r) * K + b * half + c] = s * sub[r * half + c];
      }
    }
    return h;
  }
  throw new RangeError(`no Hadamard matrix construction of order ${K}`);
}

const factors = new Map<number, Int8Array>();
function factor(K: number): Int8Array {
  let h = factors.get(K);
  if (!h) factors.set(K, (h = paleyHadamard(K)));
  return h;
}

/**
 * In place: x[offset .. offset + n) <- H_n x (or H_nᵀ x when inverse). O(n log n + n K).
 * Arithmetic is in the array's own precision (float32 arrays round after every butterfly stage).
 */
export function hadamardTransform(x: Float32Array | Float64Array, n: number, offset = 0, inverse = false): void {
  if (offset < 0 || offset + n > x.length) throw new RangeError(`Hadamard transform: range [${offset}, ${offset + n}) outside an array of ${x.length}`);
  const { K, pow2: P } = hadamardPlan(n);
  // Rows: Walsh-Hadamard butterflies.
  for (let r = 0; r < K; r++) {
    const base = offset + r * P;
    for (let len = 1; len < P; len <<= 1) {
      for (let i = 0; i < P; i += len << 1) {
        for (let j = i; j < i + len; j++) {
          const a = x[base + j];
          const b = x[base + j + len];
          x[base + j] = a + b;
          x[base + j + len] = a - b;
        }
      }
    }
  }
  // Columns: multiply by H_K (or its transpose).
  if (K > 1) {
    const h = factor(K);
    const col = new Float64Array(K);
    for (let j = 0; j < P; j++) {
      for (let i = 0; i < K; i++) col[i] = x[offset + i * P + j];
      for (let i = 0; i < K; i++) {
        let s = 0;
        for (let l = 0; l < K; l++) s += (inverse ? h[l * K + i] : h[i * K + l]) * col[l];
        x[offset + i * P + j] = s;
      }
    }
  }
  const norm = 1 / Math.sqrt(n);
  for (let i = offset; i < offset + n; i++) x[i] *= norm;
}

/** The dense orthonormal H_n (row-major n*n) that hadamardTransform applies; for tests. */
export function denseHadamard(n: number): Float64Array {
  const { K, pow2: P } = hadamardPlan(n);
  const h = factor(K);
  const norm = 1 / Math.sqrt(n);
  const out = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const sylvester = popcount((r % P) & (c % P)) % 2 ? -1 : 1;
      out[r * n + c] = h[Math.floor(r / P) * K + Math.floor(c / P)] * sylvester * norm;
    }
  }
  return out;
}

function popcount(v: number): number {
  let c = 0;
  for (; v; v &= v - 1) c++;
  return c;
}
