/**
 * A lexer and recursive-descent parser for the subset of Python that Trax
 * models are written in: imports, `name = expr` assignments and expressions
 * (calls, attributes, literals, subscripts, operators, conditional
 * expressions and lambdas). It produces a plain AST with source positions and
 * knows nothing about layers; `engine/tracecode` gives the AST its meaning.
 *
 * The node types follow Python's own `ast` module (`BinOp`, `Compare`,
 * `IfExp`, ...) so that anyone who knows it can read them, and operator
 * precedence is Python's.
 *
 * Every failure is a `PySyntaxError` with a line and column: the input is
 * whatever a person typed or pasted, so nothing in it may crash the parser.
 * Recursion is capped (`MAX_DEPTH`) for the same reason, and constructs
 * outside the subset (def, for, comprehensions, f-strings, ...) are named in
 * the error instead of being reported as plain syntax errors.
 *
 * Indentation is ignored: there are no blocks in the subset, and code pasted
 * from inside a function body should still parse.
 *
 * Columns and offsets count UTF-16 code units, as JavaScript strings do.
 */

// ---------------------------------------------------------------- AST

/** Where a node is: 1-based line and column of its start, 0-based offsets of its start and end (exclusive). */
export interface PyPos {
  line: number;
  col: number;
  offset: number;
  end: number;
}

export interface PyNum {
  type: 'Num';
  value: number;
  isFloat: boolean;
  /** the literal as written (`1_000`, `0x1F`, `.25`); keeps big ints exact */
  raw: string;
  pos: PyPos;
}

export interface PyStr {
  type: 'Str';
  /** decoded; adjacent literals (`'a' 'b'`) are already joined */
  value: string;
  pos: PyPos;
}

/** `None`, `True`, `False` */
export interface PyConst {
  type: 'Const';
  value: null | boolean;
  pos: PyPos;
}

export interface PyName {
  type: 'Name';
  id: string;
  pos: PyPos;
}

export interface PyAttribute {
  type: 'Attribute';
  value: PyNode;
  attr: string;
  pos: PyPos;
}

export interface PyKeyword {
  name: string;
  value: PyNode;
  pos: PyPos;
}

export interface PyCall {
  type: 'Call';
  func: PyNode;
  args: PyNode[];
  keywords: PyKeyword[];
  pos: PyPos;
}

export interface PyList {
  type: 'List';
  elts: PyNode[];
  pos: PyPos;
}

export interface PyTuple {
  type: 'Tuple';
  elts: PyNode[];
  pos: PyPos;
}

export interface PyDictItem {
  key: PyNode;
  value: PyNode;
}

export interface PyDict {
  type: 'Dict';
  items: PyDictItem[];
  pos: PyPos;
}

/** `value[slice]`; several comma-separated indices (`x[:, 0]`) make `slice` a Tuple, as in Python. */
export interface PySubscript {
  type: 'Subscript';
  value: PyNode;
  slice: PyNode;
  pos: PyPos;
}

/** `lower:upper:step`; only ever found as (an element of) a Subscript's `slice`. */
export interface PySlice {
  type: 'Slice';
  lower: PyNode | null;
  upper: PyNode | null;
  step: PyNode | null;
  pos: PyPos;
}

/** `...` */
export interface PyEllipsis {
  type: 'Ellipsis';
  pos: PyPos;
}

export type PyUnaryOperator = '-' | '+' | '~' | 'not';
export type PyBinaryOperator = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '@' | '|' | '^' | '&' | '<<' | '>>';
export type PyCompareOperator = '<' | '<=' | '>' | '>=' | '==' | '!=' | 'in' | 'not in' | 'is' | 'is not';

/** `-1` is a UnaryOp on the literal 1, as in Python. */
export interface PyUnaryOp {
  type: 'UnaryOp';
  op: PyUnaryOperator;
  operand: PyNode;
  pos: PyPos;
}

export interface PyBinOp {
  type: 'BinOp';
  op: PyBinaryOperator;
  left: PyNode;
  right: PyNode;
  pos: PyPos;
}

/** `a and b and c` is one BoolOp with three values. */
export interface PyBoolOp {
  type: 'BoolOp';
  op: 'and' | 'or';
  values: PyNode[];
  pos: PyPos;
}

/** `a < b <= c`: left `a`, ops `['<', '<=']`, comparators `[b, c]`. */
export interface PyCompare {
  type: 'Compare';
  left: PyNode;
  ops: PyCompareOperator[];
  comparators: PyNode[];
  pos: PyPos;
}

/** `body if test else orelse` */
export interface PyIfExp {
  type: 'IfExp';
  test: PyNode;
  body: PyNode;
  orelse: PyNode;
  pos: PyPos;
}

export interface PyLambdaParam {
  name: string;
  /** `lambda x=1: x` parses (Trax rejects it later with its own message) */
  default: PyNode | null;
  pos: PyPos;
}

export interface PyParamName {
  name: string;
  pos: PyPos;
}

export interface PyLambda {
  type: 'Lambda';
  params: PyLambdaParam[];
  /** `*args` */
  varargs: PyParamName | null;
  /** `**kwargs` */
  kwargs: PyParamName | null;
  body: PyNode;
  pos: PyPos;
}

export type PyNode =
  | PyNum
  | PyStr
  | PyConst
  | PyName
  | PyAttribute
  | PyCall
  | PyList
  | PyTuple
  | PyDict
  | PySubscript
  | PySlice
  | PyEllipsis
  | PyUnaryOp
  | PyBinOp
  | PyBoolOp
  | PyCompare
  | PyIfExp
  | PyLambda;

export interface PyImportName {
  /** dotted: `trax.layers` in `import trax.layers as tl`; `*` in `from m import *` */
  name: string;
  asname: string | null;
  pos: PyPos;
}

/** `import a.b as c` (from: null) or `from a.b import c as d` (from: 'a.b'; level counts leading dots). */
export interface PyImport {
  type: 'Import';
  from: string | null;
  level: number;
  names: PyImportName[];
  pos: PyPos;
}

export interface PyAssign {
  type: 'Assign';
  target: PyName;
  value: PyNode;
  pos: PyPos;
}

export interface PyExprStatement {
  type: 'Expr';
  value: PyNode;
  pos: PyPos;
}

export type PyStatement = PyImport | PyAssign | PyExprStatement;

export interface PyModule {
  type: 'Module';
  body: PyStatement[];
}

// ---------------------------------------------------------------- errors

/**
 * The only exception this module throws. `code` says whether the text is not
 * Python ('syntax') or is Python outside the subset ('unsupported'); both are
 * codes of `ERROR_CODES`.
 */
export class PySyntaxError extends Error {
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  /** the message without the `line L, col C: ` prefix */
  readonly reason: string;
  readonly code: 'syntax' | 'unsupported';

  constructor(reason: string, at: { line: number; col: number; offset: number }, code: 'syntax' | 'unsupported' = 'syntax') {
    super(`line ${at.line}, col ${at.col}: ${reason}`);
    this.name = 'PySyntaxError';
    this.line = at.line;
    this.col = at.col;
    this.offset = at.offset;
    this.reason = reason;
    this.code = code;
  }
}

/** Recursion cap: deep enough for any real model, shallow enough for any JS stack. */
const MAX_DEPTH = 200;

const NOT_SUPPORTED = 'not supported in a Trax model expression';

// ---------------------------------------------------------------- positions

class LineIndex {
  private readonly starts: number[] = [0];

  constructor(src: string) {
    for (let i = 0; i < src.length; i++) {
      const c = src.charCodeAt(i);
      if (c === 13 && src.charCodeAt(i + 1) === 10) i++;
      if (c === 10 || c === 13) this.starts.push(i + 1);
    }
  }

  at(offset: number): { line: number; col: number; offset: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo] + 1, offset };
  }
}

// ---------------------------------------------------------------- lexer

type TokenKind = 'name' | 'keyword' | 'number' | 'string' | 'op' | 'newline' | 'eof';

interface Token {
  kind: TokenKind;
  /** source text (for strings: the decoded value) */
  text: string;
  start: number;
  end: number;
}

const KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal',
  'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

const OPERATORS_3 = new Set(['**=', '//=', '>>=', '<<=', '...']);
const OPERATORS_2 = new Set([
  '**', '//', '<<', '>>', '<=', '>=', '==', '!=', '->', ':=', '+=', '-=', '*=', '/=', '%=', '@=', '&=', '|=', '^=',
]);
const OPERATORS_1 = new Set('+-*/%@&|^~<>()[]{},:.;=');
const AUGMENTED_ASSIGN = new Set(['+=', '-=', '*=', '/=', '//=', '%=', '**=', '@=', '&=', '|=', '^=', '<<=', '>>=']);

const IDENTIFIER = /[\p{XID_Start}_]\p{XID_Continue}*/uy;
const IDENTIFIER_CHAR = /\p{XID_Continue}/uy;
const STRING_PREFIX = /^(?:[rRuUbBfF]|[bB][rR]|[rR][bB]|[fF][rR]|[rR][fF])$/;

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isHexDigit = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isOctDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';
const isBinDigit = (c: string | undefined) => c === '0' || c === '1';

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v',
};

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp > 0x20 && cp < 0x7f) return `'${ch}'`;
  if (/^[\p{C}\p{Z}]$/u.test(ch)) return code;
  return `'${ch}' (${code})`;
}

/**
 * Produces tokens on demand, so that errors come out in source order. It
 * counts open brackets only to join lines inside them; matching brackets is
 * the parser's job, which knows where each one was opened.
 */
class Lexer {
  private i = 0;
  private brackets = 0;
  private lastKind: TokenKind | null = null;
  /** where the last real token ended: where "end of input" is reported */
  private lastEnd = 0;

  constructor(
    private readonly src: string,
    private readonly lines: LineIndex,
  ) {
    if (src.charCodeAt(0) === 0xfeff) this.i = 1;
  }

  next(): Token {
    const src = this.src;
    for (;;) {
      const start = this.i;
      if (start >= src.length) return { kind: 'eof', text: '', start: this.lastEnd, end: this.lastEnd };
      const c = src[start];
      if (c === ' ' || c === '\t' || c === '\f') {
        this.i++;
      } else if (c === '#') {
        while (this.i < src.length && src[this.i] !== '\n' && src[this.i] !== '\r') this.i++;
      } else if (c === '\n' || c === '\r') {
        this.i += c === '\r' && src[start + 1] === '\n' ? 2 : 1;
        // Blank lines and lines inside brackets do not end a statement.
        if (this.brackets === 0 && this.lastKind !== null && this.lastKind !== 'newline') {
          return this.emit('newline', '\n', start, start + 1);
        }
      } else if (c === '\\') {
        const after = src[start + 1];
        if (after === '\n') this.i += 2;
        else if (after === '\r') this.i += src[start + 2] === '\n' ? 3 : 2;
        else if (after === undefined) throw this.error(start, "unexpected end of input after the line continuation character '\\'");
        else throw this.error(start + 1, "unexpected character after the line continuation character '\\' (it must end the line)");
      } else if (isDigit(c) || (c === '.' && isDigit(src[start + 1]))) {
        return this.number(start);
      } else if (c === "'" || c === '"') {
        return this.string(start, '');
      } else {
        return this.wordOrOperator(start);
      }
    }
  }

  private wordOrOperator(start: number): Token {
    const src = this.src;
    IDENTIFIER.lastIndex = start;
    const word = IDENTIFIER.exec(src)?.[0];
    if (word !== undefined) {
      const after = src[start + word.length];
      if ((after === "'" || after === '"') && STRING_PREFIX.test(word)) return this.string(start, word);
      this.i = start + word.length;
      return this.emit(KEYWORDS.has(word) ? 'keyword' : 'name', word, start, this.i);
    }
    for (const [len, set] of [[3, OPERATORS_3], [2, OPERATORS_2], [1, OPERATORS_1]] as const) {
      const op = src.slice(start, start + len);
      if (op.length === len && set.has(op)) {
        if (op === '(' || op === '[' || op === '{') this.brackets++;
        else if ((op === ')' || op === ']' || op === '}') && this.brackets > 0) this.brackets--;
        this.i = start + len;
        return this.emit('op', op, start, this.i);
      }
    }
    const ch = String.fromCodePoint(src.codePointAt(start) ?? 0);
    if (ch === '!') throw this.error(start, "unexpected character '!' (Python writes 'not x', and '!=' for inequality)");
    throw this.error(start, `unexpected character ${describeChar(ch)}`);
  }

  private number(start: number): Token {
    const src = this.src;
    let i = start;
    let kind = 'decimal';
    if (src[i] === '0' && /^[xXoObB]$/.test(src[i + 1] ?? '')) {
      const base = src[i + 1].toLowerCase();
      kind = base === 'x' ? 'hexadecimal' : base === 'o' ? 'octal' : 'binary';
      const test = base === 'x' ? isHexDigit : base === 'o' ? isOctDigit : isBinDigit;
      i += 2;
      if (src[i] === '_') i++;
      const end = this.digits(i, test);
      if (end === i) throw this.error(start, `invalid ${kind} literal: no digits after '${src.slice(start, start + 2)}'`);
      i = end;
    } else {
      i = this.digits(i, isDigit);
      let isFloat = false;
      if (src[i] === '.') {
        isFloat = true;
        i = this.digits(i + 1, isDigit);
      }
      if (src[i] === 'e' || src[i] === 'E') {
        let j = i + 1;
        if (src[j] === '+' || src[j] === '-') j++;
        const end = this.digits(j, isDigit);
        if (end === j) throw this.error(start, `invalid float literal '${src.slice(start, j)}': the exponent has no digits`);
        i = end;
        isFloat = true;
      }
      if (src[i] === 'j' || src[i] === 'J') throw this.unsupported(start, 'complex (imaginary) literals are');
      const digits = src.slice(start, i).replace(/_/g, '');
      if (!isFloat && digits.length > 1 && digits[0] === '0' && /[1-9]/.test(digits)) {
        throw this.error(start, `leading zeros are not allowed in the integer '${src.slice(start, i)}' (write 0o${digits.replace(/^0+/, '')} for octal)`);
      }
      kind = isFloat ? 'float' : 'decimal';
    }
    IDENTIFIER_CHAR.lastIndex = i;
    if (i < src.length && IDENTIFIER_CHAR.test(src)) {
      throw this.error(start, `invalid ${kind} literal '${src.slice(start, i + 1)}'`);
    }
    this.i = i;
    return this.emit('number', src.slice(start, i), start, i);
  }

  /** Reads digits with single underscores between them (`1_000`); returns where they end. */
  private digits(i: number, test: (c: string | undefined) => boolean): number {
    const src = this.src;
    if (!test(src[i])) return i;
    i++;
    for (;;) {
      if (test(src[i])) i++;
      else if (src[i] === '_' && test(src[i + 1])) i += 2;
      else return i;
    }
  }

  private string(start: number, prefix: string): Token {
    const src = this.src;
    const flags = prefix.toLowerCase();
    if (flags.includes('f')) throw this.unsupported(start, 'f-strings are');
    if (flags.includes('b')) throw this.unsupported(start, "bytes literals (b'...') are");
    const raw = flags.includes('r');
    let i = start + prefix.length;
    const quote = src[i];
    const closing = src.startsWith(quote.repeat(3), i) ? quote.repeat(3) : quote;
    const triple = closing.length === 3;
    i += closing.length;
    let value = '';
    for (;;) {
      if (i >= src.length) {
        throw this.error(start, `unterminated ${triple ? 'triple-quoted ' : ''}string: expected a closing ${closing} before the end of input`);
      }
      const c = src[i];
      if (src.startsWith(closing, i)) {
        i += closing.length;
        break;
      }
      if (c === '\n' || c === '\r') {
        if (!triple) throw this.error(start, `unterminated string: expected a closing ${quote} before the end of the line`);
        value += '\n';
        i += c === '\r' && src[i + 1] === '\n' ? 2 : 1;
      } else if (c === '\\' && i + 1 < src.length) {
        const [text, next] = raw ? this.rawEscape(i) : this.escape(i);
        value += text;
        i = next;
      } else {
        value += c;
        i++;
      }
    }
    this.i = i;
    return this.emit('string', value, start, i);
  }

  /** In a raw string a backslash only stops the next character from closing the string. */
  private rawEscape(i: number): [string, number] {
    const src = this.src;
    const e = src[i + 1];
    if (e === '\r') return ['\\\n', src[i + 2] === '\n' ? i + 3 : i + 2];
    return ['\\' + e, i + 2];
  }

  private escape(i: number): [string, number] {
    const src = this.src;
    const e = src[i + 1];
    if (e === '\n') return ['', i + 2];
    if (e === '\r') return ['', src[i + 2] === '\n' ? i + 3 : i + 2];
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) return [simple, i + 2];
    if (e === 'x' || e === 'u' || e === 'U') {
      const count = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = src.slice(i + 2, i + 2 + count);
      if (hex.length !== count || ![...hex].every(isHexDigit)) {
        throw this.error(i, `truncated \\${e} escape: expected ${count} hex digits`);
      }
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw this.error(i, `the escape \\${e}${hex} is beyond the last Unicode character U+10FFFF`);
      return [String.fromCodePoint(cp), i + 2 + count];
    }
    if (e === 'N') throw this.unsupported(i, "named Unicode escapes ('\\N{...}') are");
    if (isOctDigit(e)) {
      let j = i + 1;
      while (j < i + 4 && isOctDigit(src[j])) j++;
      return [String.fromCharCode(parseInt(src.slice(i + 1, j), 8)), j];
    }
    // Python keeps unknown escapes such as '\d' as they are.
    return ['\\' + e, i + 2];
  }

  private emit(kind: TokenKind, text: string, start: number, end: number): Token {
    this.lastKind = kind;
    if (kind !== 'newline') this.lastEnd = end;
    return { kind, text, start, end };
  }

  private error(offset: number, reason: string): PySyntaxError {
    return new PySyntaxError(reason, this.lines.at(offset));
  }

  private unsupported(offset: number, what: string): PySyntaxError {
    return new PySyntaxError(`${what} ${NOT_SUPPORTED}`, this.lines.at(offset), 'unsupported');
  }
}

function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'newline':
      return 'end of line';
    case 'name':
      return `name '${t.text}'`;
    case 'keyword':
      return `keyword '${t.text}'`;
    case 'number':
      return `number ${t.text}`;
    case 'string': {
      const shown = quoteString(t.text.length > 30 ? `${t.text.slice(0, 30)}...` : t.text);
      return `string ${shown}`;
    }
    case 'op':
      return `'${t.text}'`;
  }
}

// ---------------------------------------------------------------- parser

/** Statements that start with these keywords; `what` completes "... are not supported". */
const UNSUPPORTED_STATEMENTS: Record<string, string> = {
  def: "function definitions ('def')",
  class: "class definitions ('class')",
  for: "'for' loops",
  while: "'while' loops",
  if: "'if' statements (a conditional expression 'a if c else b' is fine)",
  with: "'with' statements",
  try: "'try' statements",
  return: "'return' statements",
  yield: "'yield' expressions",
  await: "'await' expressions",
  async: "'async' functions and blocks",
  del: "'del' statements",
  pass: "'pass' statements",
  break: "'break' statements",
  continue: "'continue' statements",
  raise: "'raise' statements",
  assert: "'assert' statements",
  global: "'global' declarations",
  nonlocal: "'nonlocal' declarations",
};

const COMPARE_OPERATORS = new Set(['<', '<=', '>', '>=', '==', '!=']);

/** Binary operator levels, loosest first (Python's bitwise_or ... term). */
const BINARY_LEVELS: readonly (readonly string[])[] = [
  ['|'],
  ['^'],
  ['&'],
  ['<<', '>>'],
  ['+', '-'],
  ['*', '/', '//', '%', '@'],
];

const EXPRESSION_START_KEYWORDS = new Set(['None', 'True', 'False', 'not', 'lambda', 'yield', 'await']);
const EXPRESSION_START_OPERATORS = new Set(['(', '[', '{', '-', '+', '~', '...', '*']);

class Parser {
  private readonly lines: LineIndex;
  private readonly lexer: Lexer;
  private readonly lookahead: Token[] = [];
  /** end offset of the last consumed token */
  private prevEnd = 0;
  private depth = 0;

  constructor(src: string) {
    this.lines = new LineIndex(src);
    this.lexer = new Lexer(src, this.lines);
  }

  // ------------------------------------------------ entry points

  module(): PyModule {
    const body: PyStatement[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.peek().kind === 'eof') return { type: 'Module', body };
      body.push(this.statement());
      const t = this.peek();
      if (this.isOp(t, ';')) this.advance();
      else if (t.kind !== 'newline' && t.kind !== 'eof') throw this.expected("the end of the statement (a new line or ';')", t);
    }
  }

  expressionOnly(): PyNode {
    this.skipNewlines();
    const node = this.expressionList();
    this.skipNewlines();
    const t = this.peek();
    if (t.kind !== 'eof') throw this.expected('the end of the expression', t);
    return node;
  }

  // ------------------------------------------------ statements

  private statement(): PyStatement {
    const t = this.peek();
    if (t.kind === 'keyword') {
      if (t.text === 'import') return this.importStatement();
      if (t.text === 'from') return this.fromImportStatement();
      const what = UNSUPPORTED_STATEMENTS[t.text];
      if (what !== undefined) throw this.unsupported(t.start, `${what} are`);
    }
    if (this.isOp(t, '@')) throw this.unsupported(t.start, 'decorators are');

    const first = this.expressionList();
    const next = this.peek();
    if (this.isOp(next, '=')) {
      const target = this.assignTarget(first);
      this.advance();
      const value = this.expressionList();
      if (this.atOp('=')) throw this.unsupported(this.peek().start, "chained assignments ('a = b = ...') are");
      return { type: 'Assign', target, value, pos: this.from(t.start) };
    }
    if (next.kind === 'op' && AUGMENTED_ASSIGN.has(next.text)) {
      throw this.unsupported(next.start, `augmented assignments ('${next.text}') are`);
    }
    if (this.isOp(next, ':') && first.type === 'Name') {
      throw this.unsupported(next.start, "annotated assignments ('x: T = ...') are");
    }
    return { type: 'Expr', value: first, pos: this.from(t.start) };
  }

  private assignTarget(node: PyNode): PyName {
    if (node.type === 'Name') return node;
    if (node.type === 'Tuple' || node.type === 'List') {
      throw this.unsupported(node.pos.offset, 'assignments to several names at once are');
    }
    if (node.type === 'Attribute' || node.type === 'Subscript') {
      throw this.unsupported(node.pos.offset, 'assignments to attributes or items (only a plain name can be assigned) are');
    }
    throw this.errorAt(node.pos.offset, "cannot assign to this expression: only a name can be assigned (did you mean '=='?)");
  }

  private importStatement(): PyImport {
    const start = this.advance();
    const names: PyImportName[] = [];
    do {
      const nameStart = this.peek().start;
      const name = this.dottedModuleName();
      const asname = this.eatKeyword('as') ? this.expectName("a name after 'as'").text : null;
      names.push({ name, asname, pos: this.from(nameStart) });
    } while (this.eatOp(','));
    return { type: 'Import', from: null, level: 0, names, pos: this.from(start.start) };
  }

  private fromImportStatement(): PyImport {
    const start = this.advance();
    let level = 0;
    for (;;) {
      if (this.eatOp('.')) level += 1;
      else if (this.eatOp('...')) level += 3;
      else break;
    }
    const module = level > 0 && this.peek().kind !== 'name' ? '' : this.dottedModuleName();
    if (!this.eatKeyword('import')) throw this.expected("'import'", this.peek());

    const names: PyImportName[] = [];
    const star = this.peek();
    if (this.eatOp('*')) {
      names.push({ name: '*', asname: null, pos: this.span(star.start, star.end) });
    } else {
      const open = this.atOp('(') ? this.advance() : null;
      do {
        if (open && this.atOp(')')) break;
        const name = this.expectName('a name to import');
        const asname = this.eatKeyword('as') ? this.expectName("a name after 'as'").text : null;
        names.push({ name: name.text, asname, pos: this.from(name.start) });
      } while (this.eatOp(','));
      if (open) this.expectClose(open, ')');
    }
    return { type: 'Import', from: module, level, names, pos: this.from(start.start) };
  }

  private dottedModuleName(): string {
    let name = this.expectName('a module name').text;
    while (this.eatOp('.')) name += '.' + this.expectName("a name after '.'").text;
    return name;
  }

  // ------------------------------------------------ expressions, loosest first

  /** `a, b` without brackets is a tuple, as at the top of a Python statement. */
  private expressionList(): PyNode {
    const start = this.peek().start;
    const first = this.expression();
    if (!this.atOp(',')) return first;
    const elts = [first];
    while (this.eatOp(',') && this.canStartExpression(this.peek())) elts.push(this.expression());
    return { type: 'Tuple', elts, pos: this.from(start) };
  }

  private expression(): PyNode {
    this.enter();
    const start = this.peek().start;
    let node: PyNode;
    if (this.atKeyword('lambda')) {
      node = this.lambda();
    } else {
      node = this.boolOp('or');
      if (this.eatKeyword('if')) {
        const test = this.boolOp('or');
        if (!this.eatKeyword('else')) throw this.expected("'else' to complete the conditional expression 'a if c else b'", this.peek());
        const orelse = this.expression();
        node = { type: 'IfExp', test, body: node, orelse, pos: this.from(start) };
      }
      if (this.atOp(':=')) throw this.unsupported(this.peek().start, "assignment expressions (':=') are");
    }
    this.depth--;
    return node;
  }

  private lambda(): PyLambda {
    const start = this.advance();
    const params: PyLambdaParam[] = [];
    let varargs: PyParamName | null = null;
    let kwargs: PyParamName | null = null;
    const seen = new Set<string>();
    const declare = (t: Token) => {
      if (seen.has(t.text)) throw this.errorAt(t.start, `duplicate parameter '${t.text}' in lambda`);
      seen.add(t.text);
    };

    while (!this.atOp(':')) {
      const t = this.peek();
      if (kwargs) throw this.expected(`':' after '**${kwargs.name}' (it must be the last parameter)`, t);
      if (this.isOp(t, '*')) {
        this.advance();
        if (this.peek().kind !== 'name') throw this.unsupported(t.start, "keyword-only lambda parameters (a bare '*') are");
        if (varargs) throw this.errorAt(t.start, "a lambda can have only one '*' parameter");
        const name = this.advance();
        declare(name);
        varargs = { name: name.text, pos: this.span(t.start, name.end) };
      } else if (this.isOp(t, '**')) {
        this.advance();
        const name = this.expectName("a parameter name after '**'");
        declare(name);
        kwargs = { name: name.text, pos: this.span(t.start, name.end) };
      } else if (this.isOp(t, '/')) {
        throw this.unsupported(t.start, "positional-only markers ('/') in lambdas are");
      } else if (t.kind === 'name') {
        if (varargs) throw this.unsupported(t.start, `keyword-only lambda parameters (after '*${varargs.name}') are`);
        this.advance();
        declare(t);
        let defaultValue: PyNode | null = null;
        if (this.eatOp('=')) defaultValue = this.expression();
        else if (params.some((p) => p.default !== null)) {
          throw this.errorAt(t.start, `parameter '${t.text}' without a default follows a parameter with a default`);
        }
        params.push({ name: t.text, default: defaultValue, pos: this.from(t.start) });
      } else {
        throw this.expected("a parameter name or ':' in the lambda", t);
      }
      if (!this.eatOp(',')) break;
    }
    if (!this.eatOp(':')) throw this.expected("':' after the lambda parameters", this.peek());
    const body = this.expression();
    return { type: 'Lambda', params, varargs, kwargs, body, pos: this.from(start.start) };
  }

  private boolOp(op: 'or' | 'and'): PyNode {
    const operand = () => (op === 'or' ? this.boolOp('and') : this.not());
    const start = this.peek().start;
    const first = operand();
    if (!this.atKeyword(op)) return first;
    const values = [first];
    while (this.eatKeyword(op)) values.push(operand());
    return { type: 'BoolOp', op, values, pos: this.from(start) };
  }

  private not(): PyNode {
    const t = this.peek();
    if (!this.isKeyword(t, 'not')) return this.comparison();
    this.advance();
    this.enter();
    const operand = this.not();
    this.depth--;
    return { type: 'UnaryOp', op: 'not', operand, pos: this.from(t.start) };
  }

  private comparison(): PyNode {
    const start = this.peek().start;
    const left = this.binary(0);
    const ops: PyCompareOperator[] = [];
    const comparators: PyNode[] = [];
    for (let op = this.compareOperator(); op !== null; op = this.compareOperator()) {
      ops.push(op);
      comparators.push(this.binary(0));
    }
    if (ops.length === 0) return left;
    return { type: 'Compare', left, ops, comparators, pos: this.from(start) };
  }

  private compareOperator(): PyCompareOperator | null {
    const t = this.peek();
    if (t.kind === 'op' && COMPARE_OPERATORS.has(t.text)) {
      this.advance();
      return t.text as PyCompareOperator;
    }
    if (this.isKeyword(t, 'in')) {
      this.advance();
      return 'in';
    }
    if (this.isKeyword(t, 'not') && this.isKeyword(this.peek(1), 'in')) {
      this.advance();
      this.advance();
      return 'not in';
    }
    if (this.isKeyword(t, 'is')) {
      this.advance();
      return this.eatKeyword('not') ? 'is not' : 'is';
    }
    return null;
  }

  private binary(level: number): PyNode {
    if (level === BINARY_LEVELS.length) return this.factor();
    const ops = BINARY_LEVELS[level];
    const start = this.peek().start;
    let left = this.binary(level + 1);
    const depth = this.depth;
    for (let t = this.peek(); t.kind === 'op' && ops.includes(t.text); t = this.peek()) {
      this.advance();
      // Each operator in a chain nests the tree one level deeper (`(a + b) + c`).
      this.enter();
      const right = this.binary(level + 1);
      left = { type: 'BinOp', op: t.text as PyBinaryOperator, left, right, pos: this.from(start) };
    }
    this.depth = depth;
    return left;
  }

  private factor(): PyNode {
    const t = this.peek();
    if (t.kind !== 'op' || (t.text !== '-' && t.text !== '+' && t.text !== '~')) return this.power();
    this.advance();
    this.enter();
    const operand = this.factor();
    this.depth--;
    return { type: 'UnaryOp', op: t.text as PyUnaryOperator, operand, pos: this.from(t.start) };
  }

  private power(): PyNode {
    const start = this.peek().start;
    const base = this.postfix();
    if (!this.eatOp('**')) return base;
    this.enter();
    // The exponent is a factor, so `2 ** -1` works and `**` groups to the right.
    const exponent = this.factor();
    this.depth--;
    return { type: 'BinOp', op: '**', left: base, right: exponent, pos: this.from(start) };
  }

  private postfix(): PyNode {
    const start = this.peek().start;
    let node = this.atom();
    const depth = this.depth;
    for (;;) {
      const t = this.peek();
      if (this.isOp(t, '.')) {
        this.advance();
        this.enter();
        const name = this.expectName("an attribute name after '.'");
        node = { type: 'Attribute', value: node, attr: name.text, pos: this.from(start) };
      } else if (this.isOp(t, '(')) {
        this.advance();
        this.enter();
        node = this.call(start, node, t);
      } else if (this.isOp(t, '[')) {
        this.advance();
        this.enter();
        node = this.subscript(start, node, t);
      } else {
        break;
      }
    }
    this.depth = depth;
    return node;
  }

  private call(start: number, func: PyNode, open: Token): PyCall {
    const args: PyNode[] = [];
    const keywords: PyKeyword[] = [];
    while (!this.atOp(')')) {
      const t = this.peek();
      if (this.isOp(t, '*')) throw this.unsupported(t.start, "argument unpacking ('*args') in calls is");
      if (this.isOp(t, '**')) throw this.unsupported(t.start, "keyword argument unpacking ('**kwargs') in calls is");
      if (t.kind === 'name' && this.isOp(this.peek(1), '=')) {
        this.advance();
        this.advance();
        if (keywords.some((k) => k.name === t.text)) throw this.errorAt(t.start, `keyword argument '${t.text}' is given twice`);
        const value = this.expression();
        keywords.push({ name: t.text, value, pos: this.from(t.start) });
      } else {
        const value = this.expression();
        if (this.atKeyword('for')) throw this.unsupported(this.peek().start, 'generator expressions are');
        if (this.atOp('=')) {
          throw this.errorAt(this.peek().start, "expected a parameter name before '=', found an expression (did you mean '=='?)");
        }
        if (keywords.length > 0) throw this.errorAt(value.pos.offset, 'positional argument follows keyword argument');
        args.push(value);
      }
      if (!this.eatOp(',')) break;
    }
    this.expectClose(open, ')');
    return { type: 'Call', func, args, keywords, pos: this.from(start) };
  }

  private subscript(start: number, value: PyNode, open: Token): PySubscript {
    if (this.atOp(']')) throw this.expected('an index or a slice', this.peek());
    const indexStart = this.peek().start;
    const first = this.sliceItem();
    let index: PyNode = first;
    if (this.atOp(',')) {
      const elts = [first];
      while (this.eatOp(',') && !this.atOp(']')) elts.push(this.sliceItem());
      index = { type: 'Tuple', elts, pos: this.from(indexStart) };
    }
    this.expectClose(open, ']');
    return { type: 'Subscript', value, slice: index, pos: this.from(start) };
  }

  private sliceItem(): PyNode {
    const start = this.peek().start;
    let lower: PyNode | null = null;
    if (!this.atOp(':')) {
      lower = this.expression();
      if (!this.atOp(':')) return lower;
    }
    this.advance();
    const bound = () => (this.canStartExpression(this.peek()) ? this.expression() : null);
    const upper = bound();
    const step = this.eatOp(':') ? bound() : null;
    return { type: 'Slice', lower, upper, step, pos: this.from(start) };
  }

  private atom(): PyNode {
    const t = this.peek();
    switch (t.kind) {
      case 'name':
        this.advance();
        return { type: 'Name', id: t.text, pos: this.span(t.start, t.end) };
      case 'number':
        this.advance();
        return this.numberNode(t);
      case 'string':
        return this.strings();
      case 'keyword':
        if (t.text === 'None' || t.text === 'True' || t.text === 'False') {
          this.advance();
          const value = t.text === 'None' ? null : t.text === 'True';
          return { type: 'Const', value, pos: this.span(t.start, t.end) };
        }
        if (t.text === 'lambda') throw this.errorAt(t.start, 'a lambda used as an operand must be put in parentheses');
        if (t.text === 'yield' || t.text === 'await') throw this.unsupported(t.start, `'${t.text}' expressions are`);
        break;
      case 'op':
        if (t.text === '(') return this.parenthesized();
        if (t.text === '[') return this.list();
        if (t.text === '{') return this.dict();
        if (t.text === '...') {
          this.advance();
          return { type: 'Ellipsis', pos: this.span(t.start, t.end) };
        }
        if (t.text === '*') throw this.unsupported(t.start, "starred expressions ('*x') are");
        break;
    }
    throw this.expected('an expression', t);
  }

  private numberNode(t: Token): PyNum {
    const digits = t.text.replace(/_/g, '');
    const isFloat = !/^0[xXoObB]/.test(digits) && /[.eE]/.test(digits);
    return { type: 'Num', value: Number(digits), isFloat, raw: t.text, pos: this.span(t.start, t.end) };
  }

  /** Adjacent literals are one string, as in Python: `'a' 'b'` is `'ab'`. */
  private strings(): PyStr {
    const start = this.peek().start;
    let value = '';
    while (this.peek().kind === 'string') value += this.advance().text;
    return { type: 'Str', value, pos: this.from(start) };
  }

  private parenthesized(): PyNode {
    const open = this.advance();
    if (this.eatOp(')')) return { type: 'Tuple', elts: [], pos: this.from(open.start) };
    const first = this.expression();
    if (this.atKeyword('for')) throw this.unsupported(this.peek().start, 'generator expressions are');
    if (!this.atOp(',')) {
      this.expectClose(open, ')');
      return first;
    }
    const elts = [first];
    while (this.eatOp(',') && !this.atOp(')')) elts.push(this.expression());
    this.expectClose(open, ')');
    return { type: 'Tuple', elts, pos: this.from(open.start) };
  }

  private list(): PyList {
    const open = this.advance();
    const elts: PyNode[] = [];
    while (!this.atOp(']')) {
      elts.push(this.expression());
      if (elts.length === 1 && this.atKeyword('for')) throw this.unsupported(this.peek().start, 'list comprehensions are');
      if (!this.eatOp(',')) break;
    }
    this.expectClose(open, ']');
    return { type: 'List', elts, pos: this.from(open.start) };
  }

  private dict(): PyDict {
    const open = this.advance();
    const items: PyDictItem[] = [];
    while (!this.atOp('}')) {
      if (this.atOp('**')) throw this.unsupported(this.peek().start, "dict unpacking ('**d') is");
      const key = this.expression();
      if (!this.atOp(':')) {
        if (items.length === 0 && this.atKeyword('for')) throw this.unsupported(this.peek().start, 'set comprehensions are');
        if (items.length === 0 && (this.atOp(',') || this.atOp('}'))) throw this.unsupported(open.start, 'set literals are');
        throw this.expected("':' after the dict key", this.peek());
      }
      this.advance();
      const value = this.expression();
      if (items.length === 0 && this.atKeyword('for')) throw this.unsupported(this.peek().start, 'dict comprehensions are');
      items.push({ key, value });
      if (!this.eatOp(',')) break;
    }
    this.expectClose(open, '}');
    return { type: 'Dict', items, pos: this.from(open.start) };
  }

  // ------------------------------------------------ tokens

  private peek(k = 0): Token {
    while (this.lookahead.length <= k) this.lookahead.push(this.lexer.next());
    return this.lookahead[k];
  }

  private advance(): Token {
    const t = this.peek();
    this.lookahead.shift();
    if (t.kind !== 'eof') this.prevEnd = t.end;
    return t;
  }

  private skipNewlines(): void {
    while (this.peek().kind === 'newline') this.advance();
  }

  private isOp(t: Token, text: string): boolean {
    return t.kind === 'op' && t.text === text;
  }

  private isKeyword(t: Token, text: string): boolean {
    return t.kind === 'keyword' && t.text === text;
  }

  private atOp(text: string): boolean {
    return this.isOp(this.peek(), text);
  }

  private atKeyword(text: string): boolean {
    return this.isKeyword(this.peek(), text);
  }

  private eatOp(text: string): boolean {
    if (!this.atOp(text)) return false;
    this.advance();
    return true;
  }

  private eatKeyword(text: string): boolean {
    if (!this.atKeyword(text)) return false;
    this.advance();
    return true;
  }

  private expectName(what: string): Token {
    const t = this.peek();
    if (t.kind !== 'name') throw this.expected(what, t);
    return this.advance();
  }

  private expectClose(open: Token, close: string): void {
    if (this.eatOp(close)) return;
    const at = this.lines.at(open.start);
    throw this.expected(`'${close}' to close '${open.text}' at line ${at.line}, col ${at.col}`, this.peek());
  }

  private canStartExpression(t: Token): boolean {
    switch (t.kind) {
      case 'name':
      case 'number':
      case 'string':
        return true;
      case 'keyword':
        return EXPRESSION_START_KEYWORDS.has(t.text);
      case 'op':
        return EXPRESSION_START_OPERATORS.has(t.text);
      default:
        return false;
    }
  }

  // ------------------------------------------------ positions and errors

  private enter(): void {
    if (++this.depth > MAX_DEPTH) {
      throw this.errorAt(this.peek().start, `the expression is nested too deeply (more than ${MAX_DEPTH} levels of brackets or operators)`);
    }
  }

  private span(start: number, end: number): PyPos {
    const at = this.lines.at(start);
    return { line: at.line, col: at.col, offset: start, end };
  }

  /** A node that starts at `start` and ends with the last token consumed. */
  private from(start: number): PyPos {
    return this.span(start, this.prevEnd);
  }

  private errorAt(offset: number, reason: string): PySyntaxError {
    return new PySyntaxError(reason, this.lines.at(offset));
  }

  private expected(what: string, found: Token): PySyntaxError {
    return this.errorAt(found.start, `expected ${what}, found ${describeToken(found)}`);
  }

  private unsupported(offset: number, what: string): PySyntaxError {
    return new PySyntaxError(`${what} ${NOT_SUPPORTED}`, this.lines.at(offset), 'unsupported');
  }
}

// ---------------------------------------------------------------- API

/** Parses a file or cell: imports, `name = expr` assignments and expression statements. */
export function parseModule(src: string): PyModule {
  return new Parser(src).module();
}

/** Parses one expression (`a, b` is a tuple); blank lines and comments around it are fine. */
export function parseExpression(src: string): PyNode {
  return new Parser(src).expressionOnly();
}

/** `trax.layers.Dense` for a chain of attributes on a name; undefined for anything else. */
export function dottedName(node: PyNode): string | undefined {
  const parts: string[] = [];
  let n = node;
  while (n.type === 'Attribute') {
    parts.push(n.attr);
    n = n.value;
  }
  if (n.type !== 'Name') return undefined;
  parts.push(n.id);
  return parts.reverse().join('.');
}

// ---------------------------------------------------------------- printing

/** Python's precedence levels, loosest first. */
const PREC = {
  lambda: 0,
  ifExp: 1,
  or: 2,
  and: 3,
  not: 4,
  compare: 5,
  bitOr: 6,
  bitXor: 7,
  bitAnd: 8,
  shift: 9,
  sum: 10,
  term: 11,
  unary: 12,
  power: 13,
  primary: 14,
  atom: 15,
} as const;

const BINARY_PREC: Record<PyBinaryOperator, number> = {
  '|': PREC.bitOr,
  '^': PREC.bitXor,
  '&': PREC.bitAnd,
  '<<': PREC.shift,
  '>>': PREC.shift,
  '+': PREC.sum,
  '-': PREC.sum,
  '*': PREC.term,
  '/': PREC.term,
  '//': PREC.term,
  '%': PREC.term,
  '@': PREC.term,
  '**': PREC.power,
};

function precedence(node: PyNode): number {
  switch (node.type) {
    case 'Lambda':
    case 'Slice':
      return PREC.lambda;
    case 'IfExp':
      return PREC.ifExp;
    case 'BoolOp':
      return node.op === 'or' ? PREC.or : PREC.and;
    case 'UnaryOp':
      return node.op === 'not' ? PREC.not : PREC.unary;
    case 'Compare':
      return PREC.compare;
    case 'BinOp':
      return BINARY_PREC[node.op];
    case 'Num':
      // Only built (not parsed) nodes hold negative numbers; they print as `-1`.
      return node.value < 0 || Object.is(node.value, -0) ? PREC.unary : PREC.atom;
    case 'Call':
    case 'Attribute':
    case 'Subscript':
      return PREC.primary;
    default:
      return PREC.atom;
  }
}

/**
 * Prints an expression as normalized Python: single-quoted strings, floats as
 * Python's repr prints them, spaces around binary operators, and only the
 * parentheses precedence needs. Parsing the result gives the same AST.
 */
export function formatNode(node: PyNode): string {
  return format(node, PREC.lambda);
}

function format(node: PyNode, minPrec: number): string {
  const text = formatBare(node);
  return precedence(node) < minPrec ? `(${text})` : text;
}

function formatList(nodes: readonly PyNode[]): string {
  return nodes.map((n) => format(n, PREC.lambda)).join(', ');
}

function formatBare(node: PyNode): string {
  switch (node.type) {
    case 'Num':
      return formatNumber(node);
    case 'Str':
      return quoteString(node.value);
    case 'Const':
      return node.value === null ? 'None' : node.value ? 'True' : 'False';
    case 'Name':
      return node.id;
    case 'Ellipsis':
      return '...';
    case 'Attribute': {
      // `1.real` would lex as the float `1.` followed by a name.
      const base = node.value.type === 'Num' ? `(${formatBare(node.value)})` : format(node.value, PREC.primary);
      return `${base}.${node.attr}`;
    }
    case 'Call': {
      const args = node.args.map((a) => format(a, PREC.lambda));
      for (const k of node.keywords) args.push(`${k.name}=${format(k.value, PREC.lambda)}`);
      return `${format(node.func, PREC.primary)}(${args.join(', ')})`;
    }
    case 'List':
      return `[${formatList(node.elts)}]`;
    case 'Tuple':
      return node.elts.length === 1 ? `(${formatList(node.elts)},)` : `(${formatList(node.elts)})`;
    case 'Dict':
      return `{${node.items.map((i) => `${format(i.key, PREC.ifExp)}: ${format(i.value, PREC.lambda)}`).join(', ')}}`;
    case 'Subscript': {
      // Slices are only valid bare (`x[1:2, 0]`), so an index tuple loses its parentheses.
      const index = node.slice;
      const inner =
        index.type === 'Tuple' && index.elts.length > 0
          ? formatList(index.elts) + (index.elts.length === 1 ? ',' : '')
          : format(index, PREC.lambda);
      return `${format(node.value, PREC.primary)}[${inner}]`;
    }
    case 'Slice': {
      const bound = (n: PyNode | null) => (n === null ? '' : format(n, PREC.ifExp));
      return `${bound(node.lower)}:${bound(node.upper)}${node.step === null ? '' : `:${bound(node.step)}`}`;
    }
    case 'UnaryOp':
      return node.op === 'not' ? `not ${format(node.operand, PREC.not)}` : `${node.op}${format(node.operand, PREC.unary)}`;
    case 'BinOp': {
      const p = BINARY_PREC[node.op];
      // `**` groups to the right and binds tighter than a unary minus on its left only.
      const [leftMin, rightMin] = node.op === '**' ? [p + 1, PREC.unary] : [p, p + 1];
      return `${format(node.left, leftMin)} ${node.op} ${format(node.right, rightMin)}`;
    }
    case 'BoolOp': {
      // A nested BoolOp of the same kind is a separate node in Python's AST, so it keeps its parentheses.
      const p = precedence(node);
      return node.values.map((v) => format(v, p + 1)).join(` ${node.op} `);
    }
    case 'Compare': {
      let text = format(node.left, PREC.compare + 1);
      node.ops.forEach((op, i) => {
        text += ` ${op} ${format(node.comparators[i], PREC.compare + 1)}`;
      });
      return text;
    }
    case 'IfExp':
      return `${format(node.body, PREC.or)} if ${format(node.test, PREC.or)} else ${format(node.orelse, PREC.lambda)}`;
    case 'Lambda': {
      const params = node.params.map((p) => (p.default === null ? p.name : `${p.name}=${format(p.default, PREC.lambda)}`));
      if (node.varargs) params.push(`*${node.varargs.name}`);
      if (node.kwargs) params.push(`**${node.kwargs.name}`);
      const body = format(node.body, PREC.lambda);
      return params.length === 0 ? `lambda: ${body}` : `lambda ${params.join(', ')}: ${body}`;
    }
  }
}

function formatNumber(node: PyNum): string {
  const v = node.value;
  if (node.isFloat || !Number.isInteger(v)) return formatFloat(v);
  if (Number.isSafeInteger(v)) return String(v);
  // Past 2**53 the number lost digits; the literal still has them all.
  const digits = node.raw.replace(/_/g, '');
  if (/^(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/.test(digits) && Number(digits) === v) {
    return BigInt(digits).toString();
  }
  return BigInt(v).toString();
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
function formatFloat(v: number): string {
  if (Number.isNaN(v)) return "float('nan')";
  if (!Number.isFinite(v)) return v > 0 ? '1e309' : '-1e309';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  const [mantissa, expText] = Math.abs(v).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

const NON_PRINTABLE = /^[\p{C}\p{Z}]$/u;

/** A single-quoted Python literal; non-printable characters are escaped the way `repr` does. */
function quoteString(s: string): string {
  let out = "'";
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0) ?? 0;
      const [esc, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
      out += `\\${esc}${cp.toString(16).padStart(width, '0')}`;
    } else out += ch;
  }
  return `${out}'`;
}
