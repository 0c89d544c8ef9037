/**
 * The `strata` command. Contracts (read by other tools) are in README.md.
 * Exit codes: 0 success, 1 bad usage (unknown flag, unreadable file),
 * 2 a model error (printed as {"error": {...}} with --json).
 */
import { readFileSync } from 'node:fs';
import { type ShapeDtype, SignatureSyntaxError, parseShapeDtype, shapeDtypeToJson, formatShapeDtype, formatStack } from '../engine/core/shape';
import type { ModelError } from '../engine/core/errors';
import { traceDocument } from '../engine/document/trace';
import { summaryRows } from '../engine/document/summary';
import { type LoadedModel, loadModel, ModelLoadError, UsageError } from './load';
import { formatTable } from './table';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const USAGE = `usage: strata <command> [options]

commands:
  shapes  MODEL --input SIG [--input SIG ...] [--json]   the stack trace (machine form with --json)
  summary MODEL --input SIG [--input SIG ...] [--depth N] a table: one row per layer, stacks and parameters

  MODEL  a .strata.json file, a .py file holding one Trax expression, or the expression itself
  SIG    dtype[dims], e.g. float32[2,3], int32[B,128], bool[4]; one per model input, top of the stack first
`;

interface Parsed {
  command: string;
  positional: string[];
  inputs: string[];
  json: boolean;
  /** summary: deepest level shown (like torchinfo's depth) */
  depth: number;
}

function parseArgs(argv: string[]): Parsed {
  const [command, ...rest] = argv;
  const p: Parsed = { command: command ?? '', positional: [], inputs: [], json: false, depth: Infinity };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--json') p.json = true;
    else if (a === '--input' || a === '-i') {
      const v = rest[++i];
      if (v === undefined) throw new UsageError('--input needs a signature, e.g. --input float32[2,3]');
      p.inputs.push(v);
    } else if (a.startsWith('--input=')) p.inputs.push(a.slice('--input='.length));
    else if (a === '--depth') {
      const v = Number(rest[++i]);
      if (!Number.isInteger(v) || v < 0) throw new UsageError('--depth needs a non-negative integer');
      p.depth = v;
    }
    else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new UsageError(`unknown option ${a}`);
    else p.positional.push(a);
  }
  return p;
}

function modelErrorJson(e: ModelError): unknown {
  return {
    error: {
      code: e.code, path: e.path, kind: e.kind, message: e.message,
      ...(e.expected ? { expected: e.expected } : {}),
      ...(e.param ? { param: e.param } : {}),
      ...(e.fix ? { fix: e.fix } : {}),
      stack: e.stack ? e.stack.map(shapeDtypeToJson) : null,
    },
  };
}

function reportModelError(io: Io, e: ModelError, json: boolean): number {
  if (json) io.out(JSON.stringify(modelErrorJson(e)) + '\n');
  else {
    io.err(`error [${e.code}]: ${e.message}\n`);
    if (e.expected) io.err(`  expected: ${e.expected}\n`);
    if (e.stack !== undefined) io.err(`  stack: ${formatStack(e.stack ?? null)}\n`);
    if (e.fix) io.err(`  fix: ${e.fix}\n`);
  }
  return 2;
}

function signatures(p: Parsed, model: LoadedModel): ShapeDtype[] {
  // no --input: the document's (or the code's `# input:` line's) signature; a model that needs inputs then reports it
  if (p.inputs.length === 0) return model.doc.input;
  return p.inputs.map((s) => {
    try {
      return parseShapeDtype(s);
    } catch (e) {
      if (e instanceof SignatureSyntaxError) throw new UsageError(e.message);
      throw e;
    }
  });
}

function shapes(p: Parsed, io: Io, table: boolean): number {
  if (p.positional.length !== 1) throw new UsageError(`${p.command} takes one MODEL, got ${p.positional.length}`);
  let model: LoadedModel;
  try {
    model = loadModel(p.positional[0], (f) => readFileSync(f, 'utf8'));
  } catch (e) {
    if (e instanceof ModelLoadError) return reportModelError(io, e.error, p.json);
    throw e;
  }
  const input = signatures(p, model);
  const t = traceDocument({ root: model.doc.root, input });
  if (t.errors.length) return reportModelError(io, t.errors[0], p.json);
  const rows = summaryRows(t);
  if (table) {
    io.out(formatTable(rows.filter((r) => r.depth <= p.depth), t) + '\n');
    return 0;
  }
  const arity = t.root.analysis.arity!;
  const layers = (rows.length > 1 ? rows.slice(1) : rows).map((r) => ({
    path: r.path, kind: r.kind, n_in: r.nIn, n_out: r.nOut,
    stack_before: r.stackBefore?.map(shapeDtypeToJson) ?? null,
    stack_after: r.stackAfter?.map(shapeDtypeToJson) ?? null,
    params: r.params,
    ...(r.shared ? { shared: true } : {}),
  }));
  const result = {
    n_in: arity.nIn, n_out: arity.nOut,
    outputs: (t.output ?? []).map(shapeDtypeToJson),
    params: t.params,
    layers,
  };
  if (p.json) io.out(JSON.stringify(result) + '\n');
  else {
    io.out(`n_in ${arity.nIn}, n_out ${arity.nOut}, params ${t.params}\n`);
    io.out(`outputs: ${(t.output ?? []).map(formatShapeDtype).join(', ') || '(empty)'}\n`);
  }
  return 0;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(argv);
    switch (p.command) {
      case 'shapes': return shapes(p, io, false);
      case 'summary': return shapes(p, io, true);
      case '':
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return p.command === '' ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${p.command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`strata: ${e.message}\n\n${USAGE}`);
      return 1;
    }
    throw e;
  }
}
