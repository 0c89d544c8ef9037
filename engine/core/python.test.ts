import { describe, expect, it } from 'vitest';
import {
  dottedName,
  formatNode,
  parseExpression,
  parseModule,
  PySyntaxError,
  type PyNode,
  type PyStatement,
} from './python';

/** A compact, position-free rendering of the tree, so a table row shows the whole shape. */
function sexpr(n: PyNode | null): string {
  if (n === null) return '_';
  switch (n.type) {
    case 'Num':
      return n.isFloat ? `${n.value}f` : `${n.value}`;
    case 'Str':
      return JSON.stringify(n.value);
    case 'Const':
      return n.value === null ? 'None' : n.value ? 'True' : 'False';
    case 'Name':
      return n.id;
    case 'Ellipsis':
      return '...';
    case 'Attribute':
      return `(. ${sexpr(n.value)} ${n.attr})`;
    case 'Call':
      return `(call ${[n.func, ...n.args].map(sexpr).concat(n.keywords.map((k) => `${k.name}=${sexpr(k.value)}`)).join(' ')})`;
    case 'List':
      return `[${n.elts.map(sexpr).join(' ')}]`;
    case 'Tuple':
      return `(tuple${n.elts.map((e) => ' ' + sexpr(e)).join('')})`;
    case 'Dict':
      return `(dict${n.items.map((i) => ` ${sexpr(i.key)}:${sexpr(i.value)}`).join('')})`;
    case 'Subscript':
      return `(sub ${sexpr(n.value)} ${sexpr(n.slice)})`;
    case 'Slice':
      return `(slice ${sexpr(n.lower)} ${sexpr(n.upper)} ${sexpr(n.step)})`;
    case 'UnaryOp':
      return n.op === 'not' ? `(not ${sexpr(n.operand)})` : `(u${n.op} ${sexpr(n.operand)})`;
    case 'BinOp':
      return `(${n.op} ${sexpr(n.left)} ${sexpr(n.right)})`;
    case 'BoolOp':
      return `(${n.op} ${n.values.map(sexpr).join(' ')})`;
    case 'Compare':
      return `(cmp ${sexpr(n.left)}${n.ops.map((op, i) => ` ${op} ${sexpr(n.comparators[i])}`).join('')})`;
    case 'IfExp':
      return `(if ${sexpr(n.test)} ${sexpr(n.body)} ${sexpr(n.orelse)})`;
    case 'Lambda': {
      const params = n.params.map((p) => (p.default ? `${p.name}=${sexpr(p.default)}` : p.name));
      if (n.varargs) params.push(`*${n.varargs.name}`);
      if (n.kwargs) params.push(`**${n.kwargs.name}`);
      return `(lambda (${params.join(' ')}) ${sexpr(n.body)})`;
    }
  }
}

/** The tree without positions or literal spellings: what must survive a format/parse round trip. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== 'pos' && k !== 'raw') out[k] = strip(v);
  return out;
}

function syntaxError(src: string, parse: (s: string) => unknown = parseModule): PySyntaxError {
  try {
    parse(src);
  } catch (e) {
    if (e instanceof PySyntaxError) return e;
    throw e;
  }
  throw new Error(`expected a PySyntaxError for ${JSON.stringify(src)}`);
}

describe('parseExpression: shapes', () => {
  const cases: [string, string][] = [
    // precedence and associativity
    ['1 + 2 * 3', '(+ 1 (* 2 3))'],
    ['(1 + 2) * 3', '(* (+ 1 2) 3)'],
    ['1 - 2 - 3', '(- (- 1 2) 3)'],
    ['a / b // c % d @ e', '(@ (% (// (/ a b) c) d) e)'],
    ['2 ** 3 ** 2', '(** 2 (** 3 2))'],
    ['-2 ** 2', '(u- (** 2 2))'],
    ['2 ** -1', '(** 2 (u- 1))'],
    ['-x.y', '(u- (. x y))'],
    ['~x + +y', '(+ (u~ x) (u+ y))'],
    ['a | b ^ c & d << 1 + 2', '(| a (^ b (& c (<< d (+ 1 2)))))'],
    ['a < b <= c', '(cmp a < b <= c)'],
    ['a == b != c > d >= e', '(cmp a == b != c > d >= e)'],
    ['a not in b', '(cmp a not in b)'],
    ['a is not None', '(cmp a is not None)'],
    ['a + 1 < b * 2', '(cmp (+ a 1) < (* b 2))'],
    ['not a == b', '(not (cmp a == b))'],
    ['not not a', '(not (not a))'],
    ['a or b and c', '(or a (and b c))'],
    ['a and b and c', '(and a b c)'],
    ['(a and b) and c', '(and (and a b) c)'],
    ['a or not b', '(or a (not b))'],
    ['a if b else c', '(if b a c)'],
    ['a if b else c if d else e', '(if b a (if d c e))'],
    ['x + 1 if x > 0 or y else -x', '(if (or (cmp x > 0) y) (+ x 1) (u- x))'],
    // literals
    ['1_000', '1000'],
    ['0x1F + 0o17 + 0b101', '(+ (+ 31 15) 5)'],
    ['[1.0, .25, 1e-6, 2., 1E5, 1_0.5e1_0]', '[1f 0.25f 0.000001f 2f 100000f 105000000000f]'],
    ["'a\\nb\\t\\\\\\'\\\"'", JSON.stringify('a\nb\t\\\'"')],
    ['"it\'s"', JSON.stringify("it's")],
    ["'\\x41\\u00e9\\U0001F600\\101\\d'", JSON.stringify('A\u00e9\u{1F600}A\\d')],
    ["r'\\d+\\''", JSON.stringify("\\d+\\'")],
    ["'''a\n'b'\nc'''", JSON.stringify("a\n'b'\nc")],
    ['"""x""" \'y\'  "z"', '"xyz"'],
    ["'a\\\nb'", '"ab"'],
    ['None', 'None'],
    ['[True, False]', '[True False]'],
    ['...', '...'],
    // names, attributes, calls
    ['trax.layers.core.Dense', '(. (. (. trax layers) core) Dense)'],
    ['jnp.float32', '(. jnp float32)'],
    ['tl.Dense(128)', '(call (. tl Dense) 128)'],
    ["f(a, b, x=1, y='s')", '(call f a b x=1 y="s")'],
    ['f(a, b,)', '(call f a b)'],
    ['f(x=1,)', '(call f x=1)'],
    ['f()()', '(call (call f))'],
    ['f(a == b)', '(call f (cmp a == b))'],
    ['f(lambda x: x, n_out=2)', '(call f (lambda (x) x) n_out=2)'],
    ['f(g(1)[0].h)', '(call f (. (sub (call g 1) 0) h))'],
    // brackets
    ['(a)', 'a'],
    ['((a))', 'a'],
    ['(a,)', '(tuple a)'],
    ['()', '(tuple)'],
    ['(a, b)', '(tuple a b)'],
    ['(a, b,)', '(tuple a b)'],
    ['a, b', '(tuple a b)'],
    ['a,', '(tuple a)'],
    ['[a, b,]', '[a b]'],
    ['[]', '[]'],
    ['[[1], []]', '[[1] []]'],
    ["{'a': 1, 'b': x,}", '(dict "a":1 "b":x)'],
    ['{}', '(dict)'],
    // subscripts and slices
    ['x[0]', '(sub x 0)'],
    ['x[-1]', '(sub x (u- 1))'],
    ['x[:, 0]', '(sub x (tuple (slice _ _ _) 0))'],
    ['x[..., None]', '(sub x (tuple ... None))'],
    ['x[1:3]', '(sub x (slice 1 3 _))'],
    ['x[::2]', '(sub x (slice _ _ 2))'],
    ['x[1:2:3]', '(sub x (slice 1 2 3))'],
    ['x[:]', '(sub x (slice _ _ _))'],
    ['x[a:]', '(sub x (slice a _ _))'],
    ['x[0,]', '(sub x (tuple 0))'],
    ['x[(1, 2)]', '(sub x (tuple 1 2))'],
    ['x[i][j]', '(sub (sub x i) j)'],
    // lambdas
    ['lambda: 1', '(lambda () 1)'],
    ['lambda x, y: x + y', '(lambda (x y) (+ x y))'],
    ['lambda x,: x', '(lambda (x) x)'],
    ['lambda x=1: x', '(lambda (x=1) x)'],
    ['lambda x, y=(1, 2): x', '(lambda (x y=(tuple 1 2)) x)'],
    ['lambda *args: 0', '(lambda (*args) 0)'],
    ['lambda **kw: 0', '(lambda (**kw) 0)'],
    ['lambda x, *a, **k: x', '(lambda (x *a **k) x)'],
    ['lambda x: lambda y: x + y', '(lambda (x) (lambda (y) (+ x y)))'],
    ['lambda x: x if x else -x', '(lambda (x) (if x x (u- x)))'],
    ['lambda x: (x, x)', '(lambda (x) (tuple x x))'],
    ['lambda x: x, 1', '(tuple (lambda (x) x) 1)'],
    ['(lambda x: x)(1)', '(call (lambda (x) x) 1)'],
    ['a if b else lambda: c', '(if b a (lambda () c))'],
    // layout
    ['f(a,  # first\n  b)\n', '(call f a b)'],
    ['\n\n  # comment\n  tl.Serial(\n    tl.Dense(1),\n\n    tl.Relu(),\n  )  # trailing\n\n', '(call (. tl Serial) (call (. tl Dense) 1) (call (. tl Relu)))'],
    ['1 + \\\n  2', '(+ 1 2)'],
    ['[1,\r\n 2]', '[1 2]'],
    ['\ufeffx', 'x'],
    ['\u00e9t\u00e9', '\u00e9t\u00e9'],
  ];
  it.each(cases)('%j', (src, shape) => {
    expect(sexpr(parseExpression(src))).toBe(shape);
  });
});

describe('positions', () => {
  it('gives 1-based lines and columns and 0-based offsets', () => {
    const call = parseExpression('tl.Serial(\n  tl.Dense(128),\n  x + y)');
    expect(call.pos).toEqual({ line: 1, col: 1, offset: 0, end: 36 });
    if (call.type !== 'Call') throw new Error('not a call');
    expect(call.args[0].pos).toMatchObject({ line: 2, col: 3, offset: 13 });
    expect(call.args[1].pos).toMatchObject({ line: 3, col: 3, offset: 30, end: 35 });
  });

  it('spans keywords, lambda parameters and parenthesised expressions', () => {
    const call = parseExpression('f(n_out=(2), g=lambda a, b=3, *c: a)');
    if (call.type !== 'Call') throw new Error('not a call');
    expect(call.keywords[0].pos).toMatchObject({ col: 3, end: 11 });
    // Like Python's ast, a parenthesised expression is the inner node.
    expect(call.keywords[0].value.pos).toMatchObject({ col: 10, end: 10 });
    const lambda = call.keywords[1].value;
    if (lambda.type !== 'Lambda') throw new Error('not a lambda');
    expect(lambda.params.map((p) => p.pos.col)).toEqual([23, 26]);
    expect(lambda.varargs?.pos).toMatchObject({ col: 31, end: 32 });
  });

  it('covers the source text of a node, parentheses around its first operand included', () => {
    const [stmt] = parseModule('y = ((a) + b) * (c)').body;
    if (stmt.type !== 'Assign' || stmt.value.type !== 'BinOp') throw new Error('not a product');
    expect(stmt.value.pos).toMatchObject({ offset: 4, end: 19 });
    // Like Python's ast, a parenthesised expression keeps the inner node's span.
    expect(stmt.value.left.pos).toMatchObject({ offset: 5, end: 12 });
    expect(stmt.value.right.pos).toMatchObject({ offset: 17, end: 18 });
  });

  it('counts \\r\\n as one line break', () => {
    const m = parseModule('a = 1\r\nb = 2\rc = 3');
    expect(m.body.map((s) => [s.pos.line, s.pos.col])).toEqual([[1, 1], [2, 1], [3, 1]]);
  });
});

describe('parseModule', () => {
  const brief = (s: PyStatement) =>
    s.type === 'Import'
      ? `import from=${s.from} level=${s.level} ${s.names.map((n) => (n.asname ? `${n.name} as ${n.asname}` : n.name)).join(', ')}`
      : s.type === 'Assign'
        ? `${s.target.id} = ${sexpr(s.value)}`
        : sexpr(s.value);

  it('reads imports, assignments and expression statements', () => {
    const src = [
      '# A model',
      'from trax import layers as tl',
      'import trax.layers as tl',
      'import jax.numpy as jnp, numpy as np',
      'import trax',
      'from trax.layers import (Dense,',
      '    Relu as R,)',
      'from . import x',
      'from ..models import *',
      '',
      'd_model = 512; n_heads = 8;',
      'model = tl.Serial(',
      '    tl.Dense(d_model),  # project',
      '    tl.Relu(),',
      ')',
      'model',
    ].join('\n');
    expect(parseModule(src).body.map(brief)).toEqual([
      'import from=trax level=0 layers as tl',
      'import from=null level=0 trax.layers as tl',
      'import from=null level=0 jax.numpy as jnp, numpy as np',
      'import from=null level=0 trax',
      'import from=trax.layers level=0 Dense, Relu as R',
      'import from= level=1 x',
      'import from=models level=2 *',
      'd_model = 512',
      'n_heads = 8',
      'model = (call (. tl Serial) (call (. tl Dense) d_model) (call (. tl Relu)))',
      'model',
    ]);
  });

  it('accepts empty input, blank lines, comments and indentation', () => {
    expect(parseModule('').body).toEqual([]);
    expect(parseModule('\n  # only a comment\n\n').body).toEqual([]);
    expect(parseModule('  x = 1\n    y = x').body.map(brief)).toEqual(['x = 1', 'y = x']);
  });

  it('joins lines inside brackets and after a backslash', () => {
    const m = parseModule('x = f(1,\n      2) + \\\n    3\ny = [\n]');
    expect(m.body.map(brief)).toEqual(['x = (+ (call f 1 2) 3)', 'y = []']);
  });

  it('keeps the assignment target as a Name node with its position', () => {
    const [s] = parseModule('\n  layer = tl.Relu()').body;
    if (s.type !== 'Assign') throw new Error('not an assignment');
    expect(s.target).toEqual({ type: 'Name', id: 'layer', pos: { line: 2, col: 3, offset: 3, end: 8 } });
    expect(s.pos).toMatchObject({ line: 2, col: 3, end: 20 });
  });
});

describe('dottedName', () => {
  it.each([
    ['trax.layers.Dense', 'trax.layers.Dense'],
    ['tl', 'tl'],
    ['f().x', undefined],
    ['x[0].y', undefined],
    ['1', undefined],
  ])('%s', (src, name) => {
    expect(dottedName(parseExpression(src))).toBe(name);
  });
});

describe('errors', () => {
  const cases: [string, number, number, string | RegExp][] = [
    ['tl.Serial(tl.Dense(128),\n          tl.Relu()', 2, 20, "expected ')' to close '(' at line 1, col 10, found end of input"],
    ['tl.Serial(tl.Dense(128),\n  tl.Relu()\n\n# end\n', 2, 12, "expected ')' to close '(' at line 1, col 10, found end of input"],
    ['f(a b)', 1, 5, "expected ')' to close '(' at line 1, col 2, found name 'b'"],
    ['x = (1, 2]', 1, 10, "expected ')' to close '(' at line 1, col 5, found ']'"],
    ['x = [1, 2)', 1, 10, "expected ']' to close '[' at line 1, col 5, found ')'"],
    ['{1: 2', 1, 6, "expected '}' to close '{' at line 1, col 1, found end of input"],
    ['x = )', 1, 5, "expected an expression, found ')'"],
    ['1 +', 1, 4, 'expected an expression, found end of input'],
    ['x = \ny = 2', 1, 5, 'expected an expression, found end of line'],
    ['a b', 1, 3, "expected the end of the statement (a new line or ';'), found name 'b'"],
    ['x = 1;;', 1, 7, "expected an expression, found ';'"],
    ["x = 'abc\ny", 1, 5, "unterminated string: expected a closing ' before the end of the line"],
    ['x = """abc', 1, 5, 'unterminated triple-quoted string: expected a closing """ before the end of input'],
    ["'\\x4'", 1, 2, 'truncated \\x escape: expected 2 hex digits'],
    ["'\\U00110000'", 1, 2, /beyond the last Unicode character/],
    ['a if b', 1, 7, "expected 'else' to complete the conditional expression 'a if c else b', found end of input"],
    ['lambda x y: 1', 1, 10, "expected ':' after the lambda parameters, found name 'y'"],
    ['lambda x', 1, 9, "expected ':' after the lambda parameters, found end of input"],
    ['lambda x, x: 1', 1, 11, "duplicate parameter 'x' in lambda"],
    ['lambda x=1, y: 1', 1, 13, "parameter 'y' without a default follows a parameter with a default"],
    ['lambda **k, x: 1', 1, 13, "expected ':' after '**k' (it must be the last parameter), found name 'x'"],
    ['1 + lambda: 2', 1, 5, 'a lambda used as an operand must be put in parentheses'],
    ['f(x=1, 2)', 1, 8, 'positional argument follows keyword argument'],
    ['f(x=1, x=2)', 1, 8, "keyword argument 'x' is given twice"],
    ['f(a.b=1)', 1, 6, "expected a parameter name before '=', found an expression (did you mean '=='?)"],
    ['x.1', 1, 2, "expected the end of the statement (a new line or ';'), found number .1"],
    ['x.if', 1, 3, "expected an attribute name after '.', found keyword 'if'"],
    ['x[]', 1, 3, "expected an index or a slice, found ']'"],
    ['f(1) = 2', 1, 1, /cannot assign to this expression/],
    ['007', 1, 1, /leading zeros are not allowed/],
    ['1__0', 1, 1, /invalid decimal literal/],
    ['0x', 1, 1, /invalid hexadecimal literal/],
    ['1e+', 1, 1, /the exponent has no digits/],
    ['12abc', 1, 1, /invalid decimal literal/],
    ['x = $', 1, 5, "unexpected character '$'"],
    ['x = !a', 1, 5, /unexpected character '!'/],
    ['x = 1 \\ 2', 1, 8, /after the line continuation character/],
    ['x = 1 \\', 1, 7, /end of input after the line continuation character/],
    ['x\u00a0= 1', 1, 2, 'unexpected character U+00A0'],
    ['from trax', 1, 10, "expected 'import', found end of input"],
    ['import 1', 1, 8, 'expected a module name, found number 1'],
  ];
  it.each(cases)('%j', (src, line, col, message) => {
    const e = syntaxError(src);
    expect(e.reason).toMatch(message);
    expect([e.line, e.col]).toEqual([line, col]);
    expect(e.message).toBe(`line ${line}, col ${col}: ${e.reason}`);
    expect(e.code).toBe('syntax');
    expect(e).toBeInstanceOf(Error);
  });

  const unsupported: [string, string][] = [
    ['def f(x):\n  return x', "function definitions ('def')"],
    ['class A: pass', "class definitions ('class')"],
    ['for x in y: pass', "'for' loops"],
    ['while True: pass', "'while' loops"],
    ['if x:\n  y = 1', "'if' statements"],
    ['return 1', "'return' statements"],
    ['@dec\nx', 'decorators'],
    ['yield x', "'yield' expressions"],
    ['f(await x)', "'await' expressions"],
    ["f'{x}'", 'f-strings'],
    ["b'abc'", 'bytes literals'],
    ['1j', 'complex'],
    ["'\\N{DASH}'", 'named Unicode escapes'],
    ['(x := 1)', "assignment expressions (':=')"],
    ['[x for x in y]', 'list comprehensions'],
    ['f(x for x in y)', 'generator expressions'],
    ['(x for x in y)', 'generator expressions'],
    ['{x: 1 for x in y}', 'dict comprehensions'],
    ['{1, 2}', 'set literals'],
    ['{x for x in y}', 'set comprehensions'],
    ['{**d}', "dict unpacking ('**d')"],
    ['f(*args)', "argument unpacking ('*args') in calls"],
    ['f(a, **kw)', "keyword argument unpacking ('**kwargs') in calls"],
    ['[*a, b]', "starred expressions ('*x')"],
    ['x += 1', "augmented assignments ('+=')"],
    ['a, b = 1, 2', 'assignments to several names at once'],
    ['x.y = 1', 'assignments to attributes or items'],
    ['a = b = 1', 'chained assignments'],
    ['x: int = 1', 'annotated assignments'],
    ['lambda *, x: x', "keyword-only lambda parameters (a bare '*')"],
    ['lambda *a, x: x', "keyword-only lambda parameters (after '*a')"],
    ['lambda x, /: x', "positional-only markers ('/')"],
  ];
  it.each(unsupported)('%j is unsupported', (src, what) => {
    const e = syntaxError(src);
    expect(e.code).toBe('unsupported');
    expect(e.reason).toContain(what);
    expect(e.reason).toContain('not supported in a Trax model expression');
  });

  it('parseExpression rejects statements and trailing tokens', () => {
    expect(syntaxError('x = 1', parseExpression).reason).toBe("expected the end of the expression, found '='");
    expect(syntaxError('a\nb', parseExpression).reason).toBe("expected the end of the expression, found name 'b'");
    expect(syntaxError('import trax', parseExpression).reason).toBe("expected an expression, found keyword 'import'");
    expect(syntaxError('  # nothing\n', parseExpression).message).toBe('line 1, col 1: expected an expression, found end of input');
  });

  it('caps nesting depth instead of overflowing the stack', () => {
    const deep = [
      '('.repeat(5000) + '1' + ')'.repeat(5000),
      '['.repeat(5000),
      '-'.repeat(50000) + '1',
      'not '.repeat(5000) + 'x',
      '1' + ' + 1'.repeat(5000),
      '2' + ' ** 2'.repeat(5000),
      'x' + '.y'.repeat(5000),
      'f' + '()'.repeat(5000),
      'lambda: '.repeat(5000) + '1',
      '1 if x else '.repeat(5000) + '1',
    ];
    for (const src of deep) {
      expect(syntaxError(src).reason).toMatch(/nested too deeply/);
    }
    // Long flat sequences are not nesting.
    expect(parseModule(`f(${'1, '.repeat(20000)})\n`.repeat(3)).body).toHaveLength(3);
    expect(parseModule('a and '.repeat(5000) + 'b').body).toHaveLength(1);
    expect(parseModule('x = 1\n'.repeat(5000)).body).toHaveLength(5000);
    // Realistic nesting stays well inside the cap.
    expect(() => parseExpression('['.repeat(150) + ']'.repeat(150))).not.toThrow();
    expect(() => parseExpression('f('.repeat(60) + ')'.repeat(60))).not.toThrow();
  });
});

describe('formatNode', () => {
  const exact: [string, string][] = [
    ['tl.Serial(tl.Dense(128), tl.Relu(),)', 'tl.Serial(tl.Dense(128), tl.Relu())'],
    ['lambda x,y:x+y', 'lambda x, y: x + y'],
    ['lambda:(1,)', 'lambda: (1,)'],
    ['lambda x=1, *a, **k: x', 'lambda x=1, *a, **k: x'],
    ['f ( a , n_out = 2 )', 'f(a, n_out=2)'],
    ['"it\'s"', "'it\\'s'"],
    ['"a\\nb\\x00\\u00e9\\u2028\\x7f"', "'a\\nb\\x00\u00e9\\u2028\\x7f'"],
    ['1.0', '1.0'],
    ['2.', '2.0'],
    ['.25', '0.25'],
    ['1e-6', '1e-06'],
    ['1E5', '100000.0'],
    ['1e16', '1e+16'],
    ['1.5e300', '1.5e+300'],
    ['0.0001', '0.0001'],
    ['0.00001', '1e-05'],
    ['123.456', '123.456'],
    ['1e999', '1e309'],
    ['1_000', '1000'],
    ['0xff', '255'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['(a + b) * c', '(a + b) * c'],
    ['a + (b + c)', 'a + (b + c)'],
    ['(a + b) + c', 'a + b + c'],
    ['(-2) ** 2', '(-2) ** 2'],
    ['2 ** (-1)', '2 ** -1'],
    ['(2 ** 3) ** 2', '(2 ** 3) ** 2'],
    ['-(a + b)', '-(a + b)'],
    ['not (a and b)', 'not (a and b)'],
    ['(a < b) < c', '(a < b) < c'],
    ['(a if b else c) if d else e', '(a if b else c) if d else e'],
    ['(lambda x: x)(1)', '(lambda x: x)(1)'],
    ['(1).real', '(1).real'],
    ['x[:, 0]', 'x[:, 0]'],
    ['x[..., None]', 'x[..., None]'],
    ['x[::2]', 'x[::2]'],
    ['x[(1, 2)]', 'x[1, 2]'],
    ['x[0,]', 'x[0,]'],
    ['x[()]', 'x[()]'],
    ['(a,)', '(a,)'],
    ['a, b', '(a, b)'],
    ['{"a": [1, 2]}', "{'a': [1, 2]}"],
    ['a  is  not  b', 'a is not b'],
  ];
  it.each(exact)('%j -> %j', (src, out) => {
    expect(formatNode(parseExpression(src))).toBe(out);
  });

  const roundTrips = [
    ...exact.map(([src]) => src),
    "tl.Fn('Sum', lambda x0, x1: (x0 + x1, jnp.maximum(x0, x1)), n_out=2)",
    'trax.models.TransformerLM(vocab_size=32000, d_model=512, dropout=0.1, mode="train")',
    'lambda x: jnp.where(x > 0, x, 0.01 * x)',
    'lambda x: x[:, :, ::-1] * -1',
    'lambda x, y: x @ y.T / jnp.sqrt(512.0)',
    'a or b and not c or d',
    '(a or b) and c',
    '-x ** -y ** z',
    '~-+x',
    'a - (b - c) - d',
    'a // (b * c) % d',
    'a | b & c ^ d << e >> f',
    '(a | b) & c',
    'x if y else lambda: z',
    '(lambda: 1) if y else 2',
    'f(lambda: 1, lambda x: (x, x), k=lambda: (1,))',
    '[lambda x: x, (lambda y: y)]',
    '{1: lambda: 2, (lambda: 3): 4}',
    'x[lambda: 1:2]',
    'x[(lambda: 1):(a if b else c):-1]',
    '(a, b)[0].c(d)[e:f]',
    "'\\t\\r\\\\ \\x80 \\U0001F600 \\ud800'",
    'a is None is not b in c not in d',
    'lambda x=lambda: 1, y=(2 if a else 3): x',
    '5e-324 + 1.7976931348623157e308 + 0.1 + 1/3',
  ];
  it.each(roundTrips)('round-trips %j', (src) => {
    const tree = parseExpression(src);
    const text = formatNode(tree);
    expect(strip(parseExpression(text))).toEqual(strip(tree));
    expect(formatNode(parseExpression(text))).toBe(text);
  });

  it('prints nodes built by hand', () => {
    const pos = { line: 1, col: 1, offset: 0, end: 0 };
    const num = (value: number, isFloat = false): PyNode => ({ type: 'Num', value, isFloat, raw: '', pos });
    expect(formatNode({ type: 'BinOp', op: '**', left: num(-2), right: num(2), pos })).toBe('(-2) ** 2');
    expect(formatNode({ type: 'BinOp', op: '-', left: num(1), right: num(-0.5, true), pos })).toBe('1 - -0.5');
    expect(formatNode({ type: 'Attribute', value: num(2.5, true), attr: 'real', pos })).toBe('(2.5).real');
    expect(formatNode(num(NaN, true))).toBe("float('nan')");
    expect(formatNode(num(2 ** 60))).toBe('1152921504606846976');
  });
});

describe('fuzz: mutated Trax snippets parse or fail with PySyntaxError', () => {
  const snippets = [
    'tl.Serial(tl.Dense(128), tl.Relu(), tl.Dense(10))',
    "tl.Fn('Sum', lambda x0, x1: (x0 + x1, jnp.maximum(x0, x1)), n_out=2)",
    'trax.models.TransformerLM(vocab_size=32000, d_model=512)',
    'from trax import layers as tl\nimport jax.numpy as jnp\nmodel = tl.Serial(\n    tl.Embedding(vocab_size=8192, d_feature=256),\n    tl.Mean(axis=1),  # average\n    tl.Dense(2),\n    tl.LogSoftmax(),\n)',
    'tl.Residual(tl.LayerNorm(), tl.Dense(512), tl.Dropout(rate=0.1, mode="train"))',
    'tl.Branch(tl.Select([0, 1, 0]), tl.Parallel(None, tl.Fn("Neg", lambda x: -x)))',
    'tl.Fn("Scale", lambda x: x * 1e-6 + .25 ** 2., n_out=1)',
    'tl.Fn("Slice", lambda x: x[:, 0, ::2], n_out=1)',
    'tl.Fn("Idx", lambda x: x[..., None], n_out=1)',
    'tl.Conv(filters=64, kernel_size=(3, 3), padding="SAME", strides=(1, 1))',
    "tl.Fn('Gate', lambda x, g: x * jnp.where(g > 0, 1.0, 0.0) if True else x)",
    'import trax\nd_model = 1_024; n_heads = 8\nm = trax.layers.core.Dense(d_model * 4 // n_heads)',
    'tl.Serial(\n  tl.Branch([], tl.Dense(1)),\n  tl.Add(),\n  tl.Fn("F", lambda *a, **k: a, n_out=2),\n)',
    "x = {'a': 1, 'b': [2, 3,], 'c': (4,)}",
    'tl.Fn("Cmp", lambda a, b: not a < b <= 3 and (a != b or a is None))',
    'tl.Fn("Bits", lambda a: ~a & 0xFF | a << 2 ^ a >> 1)',
    '"""doc\nstring""" \'x\' r"\\d+"\ntl.Relu()',
    'tl.Scan(tl.Fn("Step", lambda c, x: (c + x, c), n_out=2), axis=0, n_carry=1)',
    'tl.Fn("Default", lambda x=1, *args, **kw: (x, args, kw))',
    'model = tl.Serial(tl.Dense(10), \\\n  tl.Relu()); print(model)',
  ];
  const pieces = [
    '(', ')', '[', ']', '{', '}', ',', ':', ';', '.', '...', '=', '==', '**', '*', '-', '+', '~', '@', '//',
    'lambda', 'lambda x:', 'if', 'else', 'not', 'and', 'or', 'in', 'is', 'None', 'for', 'def', 'import', 'from',
    "'", '"', '"""', "'''", '\\', '\n', '\r\n', '#', ' ', '\t', '0x', '1e', '1_', '_', '0', '.5', 'f"', 'r"',
    '\\x', '\\N', '\\U0011', ':=', '!', '$', '\u00a0', '\u00e9', '\ud83d', '\0', '\ufeff', 'tl.Dense(',
  ];

  /** mulberry32: a tiny seeded PRNG, so a failure always reproduces. */
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function mutate(src: string, rand: () => number): string {
    const int = (n: number) => Math.floor(rand() * n);
    const at = int(src.length + 1);
    switch (int(7)) {
      case 0:
        return src.slice(0, at) + src.slice(at + 1 + int(4));
      case 1:
        return src.slice(0, at) + pieces[int(pieces.length)] + src.slice(at);
      case 2: {
        const len = 1 + int(12);
        return src.slice(0, at) + src.slice(at, at + len) + src.slice(at);
      }
      case 3: {
        const j = int(src.length);
        const chars = [...src];
        [chars[at], chars[j]] = [chars[j] ?? '', chars[at] ?? ''];
        return chars.join('');
      }
      case 4:
        return src.slice(0, at);
      case 5:
        return src.slice(0, at) + String.fromCharCode(int(0x80)) + src.slice(at);
      default: {
        // swap two whitespace-separated tokens
        const words = src.split(/(\s+)/);
        const i = int(words.length);
        const j = int(words.length);
        [words[i], words[j]] = [words[j], words[i]];
        return words.join('');
      }
    }
  }

  /** Parses, and if that works, checks that formatting each expression round-trips. */
  function check(src: string): 'ok' | 'error' {
    let module;
    try {
      module = parseModule(src);
    } catch (e) {
      if (!(e instanceof PySyntaxError)) throw new Error(`${String(e)} for ${JSON.stringify(src)}`);
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.col).toBeGreaterThanOrEqual(1);
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(src.length);
      return 'error';
    }
    for (const s of module.body) {
      if (s.type === 'Import') continue;
      const text = formatNode(s.value);
      expect(strip(parseExpression(text)), JSON.stringify(src)).toEqual(strip(s.value));
    }
    return 'ok';
  }

  it('every snippet parses as written', () => {
    for (const s of snippets) expect(check(s)).toBe('ok');
  });

  it('survives thousands of seeded mutations', () => {
    const rand = prng(20240531);
    const outcomes = { ok: 0, error: 0 };
    for (let n = 0; n < 4000; n++) {
      let src = snippets[n % snippets.length];
      const count = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < count; k++) src = mutate(src, rand);
      outcomes[check(src)]++;
    }
    // Both outcomes must be common, or the mutations are not testing much.
    expect(outcomes.ok).toBeGreaterThan(200);
    expect(outcomes.error).toBeGreaterThan(1000);
  });

  it('survives random characters', () => {
    const rand = prng(7);
    const alphabet = "abcxyz019_.,:;()[]{}+-*/%@&|^~<>=!'\"#\\ \t\n\r`$?\u00e9\u4e2d\ud83d\ude00\u0000";
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(rand() * 40);
      let src = '';
      for (let k = 0; k < len; k++) src += alphabet[Math.floor(rand() * alphabet.length)];
      check(src);
    }
  });
});
