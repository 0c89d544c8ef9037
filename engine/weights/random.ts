/**
 * Seeded, counter-based random numbers for weight initialization.
 *
 * The generator is Philox-4x32-10 (Salmon et al., "Parallel random numbers:
 * as easy as 1, 2, 3", SC 2011): a keyed bijection of a 128-bit counter. The
 * key is the global seed (64 bits); the counter is (block, substream,
 * hash(weight key)). So a weight's values depend only on the seed and its own
 * key (`Serial[1]/Dense/kernel`): not on the order in which weights are
 * drawn, nor on edits elsewhere in the model.
 *
 * Uniforms are built from 24 bits (float32 precision) or 53 bits (doubles,
 * used inside Box–Muller); normals use Box–Muller on one 128-bit block (two
 * doubles → two normals); truncated normals reject draws outside [lo, hi].
 * Everything runs on 32-bit integer arithmetic and IEEE doubles, so the
 * streams are the same in Node and in the browser (transcendentals go
 * through Math.log/cos/sin, which V8 computes identically on every platform).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (the low half is Math.imul). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox-4x32-10 of counter (c0..c3) under key (k0, k1), written into `out`
 * (four uint32). Matches the Random123 known-answer vectors.
 */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
  return out;
}

const MASK64 = (1n << 64n) - 1n;

/** 64-bit hash of a string (FNV-1a over its UTF-8 bytes, then the splitmix64 finalizer), as two uint32. */
export function hashKey(key: string): [number, number] {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(key)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & MASK64;
  h = ((h ^ (h >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  h = ((h ^ (h >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  h ^= h >> 31n;
  return [Number(h & 0xffffffffn), Number(h >> 32n)];
}

/** A seed as the 64-bit Philox key: any finite number; integers up to 2^53 keep all their bits. */
function seedWords(seed: number): [number, number] {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const s = Math.trunc(seed);
  const neg = s < 0;
  const a = Math.abs(s);
  let lo = a % 4294967296 >>> 0;
  let hi = Math.floor(a / 4294967296) % 4294967296 >>> 0;
  if (neg) { // two's complement, so -1 and 2^64-1 agree as they would in NumPy
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  return [lo, hi];
}

const TWO_M24 = 1 / 16777216;
const TWO_M53 = 1 / 9007199254740992;

/**
 * One stream: the blocks philox(key = seed, counter = (i, substream, h0, h1))
 * for i = 0, 1, 2, … read in order. `at` restarts it at any block.
 */
export class RandomStream {
  private readonly block = new Uint32Array(4);
  private pos = 4;
  private counter = 0;
  private spare: number | null = null;

  constructor(
    private readonly k0: number,
    private readonly k1: number,
    private readonly c1: number,
    private readonly c2: number,
    private readonly c3: number,
  ) {}

  /** A stream on its own: (seed, key) and optionally a substream number. */
  static for(seed: number, key: string, substream = 0): RandomStream {
    const [k0, k1] = seedWords(seed);
    const [h0, h1] = hashKey(key);
    return new RandomStream(k0, k1, substream >>> 0, h0, h1);
  }

  /** Another independent stream of the same (seed, key). */
  substream(n: number): RandomStream {
    return new RandomStream(this.k0, this.k1, n >>> 0, this.c2, this.c3);
  }

  /** Restarts at block `i` (each block holds four uint32). */
  at(i: number): this {
    this.counter = i;
    this.pos = 4;
    this.spare = null;
    return this;
  }

  /** The next uint32. */
  uint32(): number {
    if (this.pos === 4) {
      // 2^32 blocks (2^34 values) per stream: more than any typed array holds
      philox4x32(this.counter >>> 0, this.c1, this.c2, this.c3, this.k0, this.k1, this.block);
      this.counter++;
      this.pos = 0;
    }
    return this.block[this.pos++];
  }

  /** Uniform in [0, 1) with 24 random bits (every value exact in float32). */
  float(): number {
    return (this.uint32() >>> 8) * TWO_M24;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  double(): number {
    const a = this.uint32() >>> 5;
    const b = this.uint32() >>> 6;
    return (a * 67108864 + b) * TWO_M53;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.double(); // (0, 1]: log is finite
    const u2 = this.double();
    const r = Math.sqrt(-2 * Math.log(u1));
    const t = 2 * Math.PI * u2;
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }

  /** Standard normal conditioned on [lo, hi] (rejection; lo < hi, the interval must hold real mass). */
  truncatedNormal(lo = -2, hi = 2): number {
    for (;;) {
      const z = this.normal();
      if (z >= lo && z <= hi) return z;
    }
  }

  /** Fills `out` with U[lo, hi). */
  fillUniform(out: { length: number; [i: number]: number }, lo: number, hi: number): void {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(lo, hi);
  }

  /** Fills `out` with N(0, 1) * scale. */
  fillNormal(out: { length: number; [i: number]: number }, scale = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = this.normal() * scale;
  }

  /** Fills `out` with truncnorm(lo, hi) * scale. */
  fillTruncatedNormal(out: { length: number; [i: number]: number }, scale = 1, lo = -2, hi = 2): void {
    for (let i = 0; i < out.length; i++) out[i] = this.truncatedNormal(lo, hi) * scale;
  }
}

/** The stream of the weight `key` under `seed`. */
export function weightStream(seed: number, key: string): RandomStream {
  return RandomStream.for(seed, key);
}
