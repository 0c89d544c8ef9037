/**
 * Dimensions: a non-negative integer or a symbolic expression kept as its
 * canonical string (`B`, `L*8`, `floor((H-3)/2)+1`). Canonical strings make
 * symbolic dims plain, serializable data whose equality is `===`.
 *
 * Internally an expression is a polynomial with integer coefficients over
 * atoms; an atom is a symbol (`B`) or an opaque division that did not divide
 * exactly (`floor((H-3)/2)`). Parsed polynomials are cached by string, so
 * arithmetic on the shape-tracing hot path stays cheap.
 */

export type Dim = number | string;

/** monomial key (atoms sorted, joined by '*'; '' for the constant) -> coefficient */
type Poly = Map<string, number>;

const polyCache = new Map<string, Poly>();

export class DimSyntaxError extends Error {}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isSymbolic(d: Dim): d is string {
  return typeof d === 'string';
}

export function isSymbolName(s: string): boolean {
  return IDENT.test(s) && s !== 'floor' && s !== 'ceil';
}

// ---------------------------------------------------------------- parsing

function parsePoly(src: string): Poly {
  const cached = polyCache.get(src);
  if (cached) return cached;
  const p = new DimParser(src).parseAll();
  if (polyCache.size > 50_000) polyCache.clear();
  polyCache.set(src, p);
  return p;
}

class DimParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseAll(): Poly {
    const p = this.expr();
    this.ws();
    if (this.i < this.s.length) throw new DimSyntaxError(`unexpected '${this.s[this.i]}' in dimension '${this.s}'`);
    return p;
  }
  private ws(): void {
    while (this.i < this.s.length && this.s[this.i] === ' ') this.i++;
  }
  private peek(): string {
    this.ws();
    return this.s[this.i] ?? '';
  }
  private expr(): Poly {
    let acc = this.term();
    for (;;) {
      const c = this.peek();
      if (c === '+') { this.i++; acc = addPoly(acc, this.term(), 1); }
      else if (c === '-') { this.i++; acc = addPoly(acc, this.term(), -1); }
      else return acc;
    }
  }
  private term(): Poly {
    let acc = this.unary();
    while (this.peek() === '*') { this.i++; acc = mulPoly(acc, this.unary()); }
    return acc;
  }
  private unary(): Poly {
    if (this.peek() === '-') { this.i++; return scalePoly(this.unary(), -1); }
    return this.factor();
  }
  private factor(): Poly {
    const c = this.peek();
    if (c === '(') {
      this.i++;
      const p = this.expr();
      this.expect(')');
      return p;
    }
    const m = /^[0-9]+/.exec(this.s.slice(this.i));
    if (m) { this.i += m[0].length; return constPoly(Number(m[0])); }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    if (id) {
      this.i += id[0].length;
      if (id[0] === 'floor' || id[0] === 'ceil') {
        this.expect('(');
        const num = this.expr();
        this.expect('/');
        const den = this.expr();
        this.expect(')');
        return divPoly(num, den, id[0]);
      }
      return atomPoly(id[0]);
    }
    throw new DimSyntaxError(c ? `unexpected '${c}' in dimension '${this.s}'` : `dimension '${this.s}' ends too early`);
  }
  private expect(ch: string): void {
    if (this.peek() !== ch) throw new DimSyntaxError(`expected '${ch}' in dimension '${this.s}'`);
    this.i++;
  }
}

// ---------------------------------------------------------------- polynomial arithmetic

function constPoly(n: number): Poly {
  return n === 0 ? new Map() : new Map([['', n]]);
}
function atomPoly(a: string): Poly {
  return new Map([[a, 1]]);
}
function addPoly(a: Poly, b: Poly, sign: number): Poly {
  const r = new Map(a);
  for (const [k, v] of b) {
    const n = (r.get(k) ?? 0) + sign * v;
    if (n === 0) r.delete(k); else r.set(k, n);
  }
  return r;
}
function scalePoly(a: Poly, k: number): Poly {
  if (k === 0) return new Map();
  const r: Poly = new Map();
  for (const [m, v] of a) r.set(m, v * k);
  return r;
}
function mulMono(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return [...a.split('*'), ...b.split('*')].sort().join('*');
}
function mulPoly(a: Poly, b: Poly): Poly {
  const r: Poly = new Map();
  for (const [ma, va] of a) {
    for (const [mb, vb] of b) {
      const m = mulMono(ma, mb);
      const n = (r.get(m) ?? 0) + va * vb;
      if (n === 0) r.delete(m); else r.set(m, n);
    }
  }
  return r;
}
function constOf(p: Poly): number | undefined {
  if (p.size === 0) return 0;
  if (p.size === 1 && p.has('')) return p.get('');
  return undefined;
}

/** floor/ceil division; exact when every coefficient divides, else an opaque atom. */
function divPoly(num: Poly, den: Poly, how: 'floor' | 'ceil'): Poly {
  const dc = constOf(den);
  const nc = constOf(num);
  if (dc !== undefined) {
    if (dc === 0) throw new DimSyntaxError('division of a dimension by zero');
    if (nc !== undefined) return constPoly(how === 'floor' ? Math.floor(nc / dc) : Math.ceil(nc / dc));
    let exact = true;
    for (const v of num.values()) if (v % dc !== 0) { exact = false; break; }
    if (exact) return scalePoly(num, 1 / dc);
  } else if (polyEq(num, den)) {
    return constPoly(1);
  } else {
    // num = k * den exactly?
    const q = quotientByPoly(num, den);
    if (q !== undefined) return q;
  }
  return atomPoly(`${how}(${wrap(num)}/${wrap(den)})`);
}

/** num / den when it divides exactly: den a constant multiple of num, or a monomial dividing every term. */
function quotientByPoly(num: Poly, den: Poly): Poly | undefined {
  if (den.size === 1) {
    const [[dm, dc]] = [...den.entries()];
    const datoms = dm === '' ? [] : dm.split('*');
    const out: Poly = new Map();
    for (const [m, v] of num) {
      if (v % dc !== 0) return undefined;
      const atoms = m === '' ? [] : m.split('*');
      for (const a of datoms) {
        const i = atoms.indexOf(a);
        if (i < 0) return undefined;
        atoms.splice(i, 1);
      }
      out.set(atoms.join('*'), v / dc);
    }
    return out;
  }
  // num = c * den with an integer c
  let c: number | undefined;
  if (num.size !== den.size) return undefined;
  for (const [m, v] of den) {
    const nv = num.get(m);
    if (nv === undefined || nv % v !== 0) return undefined;
    const k = nv / v;
    if (c === undefined) c = k; else if (c !== k) return undefined;
  }
  return c === undefined ? undefined : constPoly(c);
}

function polyEq(a: Poly, b: Poly): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function wrap(p: Poly): string {
  const s = formatPoly(p);
  const bare = constOf(p) !== undefined ? constOf(p)! >= 0 : p.size === 1 && [...p.values()][0] === 1;
  return bare ? s : `(${s})`;
}

function monoDegree(m: string): number {
  return m === '' ? 0 : m.split('*').length;
}

function formatPoly(p: Poly): string {
  if (p.size === 0) return '0';
  const monos = [...p.keys()].sort((a, b) => {
    const da = monoDegree(a), db = monoDegree(b);
    if (da !== db) return db - da;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  let out = '';
  for (const m of monos) {
    const v = p.get(m)!;
    let body: string;
    const av = Math.abs(v);
    if (m === '') body = String(av);
    else body = av === 1 ? m : `${m}*${av}`;
    if (out === '') out = v < 0 ? `-${body}` : body;
    else out += v < 0 ? `-${body}` : `+${body}`;
  }
  return out;
}

function toDim(p: Poly): Dim {
  const c = constOf(p);
  return c !== undefined ? c : formatPoly(p);
}

function polyOf(d: Dim): Poly {
  return typeof d === 'number' ? constPoly(d) : parsePoly(d);
}

// ---------------------------------------------------------------- public arithmetic

/** Parses a user-written dimension (`B`, `128`, `L*2`) into its canonical form. Throws DimSyntaxError. */
export function parseDim(src: string): Dim {
  const t = src.trim();
  if (/^[0-9]+$/.test(t)) return Number(t);
  return toDim(parsePoly(t));
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  return toDim(addPoly(polyOf(a), polyOf(b), 1));
}
export function dimSub(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return toDim(addPoly(polyOf(a), polyOf(b), -1));
}
export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  return toDim(mulPoly(polyOf(a), polyOf(b)));
}
export function dimProd(ds: readonly Dim[]): Dim {
  let acc: Dim = 1;
  for (const d of ds) acc = dimMul(acc, d);
  return acc;
}
export function dimFloorDiv(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return Math.floor(a / b);
  return toDim(divPoly(polyOf(a), polyOf(b), 'floor'));
}
export function dimCeilDiv(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return Math.ceil(a / b);
  return toDim(divPoly(polyOf(a), polyOf(b), 'ceil'));
}
/**
 * Whether `a` is known to be divisible by `b`. `undefined` when it cannot be
 * decided symbolically (callers accept then, and the runtime decides).
 */
export function dimDivisible(a: Dim, b: Dim): boolean | undefined {
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0;
  const pa = polyOf(a);
  const cb = typeof b === 'number' ? b : undefined;
  if (cb !== undefined) {
    let all = true;
    for (const v of pa.values()) if (v % cb !== 0) { all = false; break; }
    return all ? true : undefined;
  }
  return quotientByPoly(pa, polyOf(b)) !== undefined || polyEq(pa, polyOf(b)) ? true : undefined;
}

export function formatDim(d: Dim): string {
  return String(d);
}
