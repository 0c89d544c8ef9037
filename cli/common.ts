/** What the commands share: output, reading MODEL, input signatures, model errors. */
import { readFileSync } from 'node:fs';
import { type ShapeDtype, SignatureSyntaxError, formatStack, parseShapeDtype, shapeDtypeToJson } from '../engine/core/shape';
import type { ModelError } from '../engine/core/errors';
import { type ParsedArgs, UsageError } from './args';
import { type LoadedModel, ModelLoadError, loadModel } from './load';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

export function modelErrorJson(e: ModelError): unknown {
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

export function reportModelError(io: Io, e: ModelError, json: boolean): number {
  if (json) io.out(JSON.stringify(modelErrorJson(e)) + '\n');
  else {
    io.err(`error [${e.code}]: ${e.message}\n`);
    if (e.expected) io.err(`  expected: ${e.expected}\n`);
    if (e.stack !== undefined) io.err(`  stack: ${formatStack(e.stack ?? null)}\n`);
    if (e.fix) io.err(`  fix: ${e.fix}\n`);
  }
  return 2;
}

/** Reads MODEL (positional 0); a model that cannot be read reports as a model error. */
export function readModel(p: ParsedArgs, io: Io, json: boolean): LoadedModel | number {
  if (p.positional.length !== 1) throw new UsageError(`give one MODEL, got ${p.positional.length}`);
  try {
    return loadModel(p.positional[0], (f) => readFileSync(f, 'utf8'));
  } catch (e) {
    if (e instanceof ModelLoadError) return reportModelError(io, e.error, json);
    throw e;
  }
}

/** --input SIG... or, when absent, the document's (or the code's `# input:` line's) signature. */
export function signatures(p: ParsedArgs, model: LoadedModel): ShapeDtype[] {
  const given = p.flags.get('input') ?? [];
  if (given.length === 0) return model.doc.input;
  return given.map((s) => {
    try {
      return parseShapeDtype(s);
    } catch (e) {
      if (e instanceof SignatureSyntaxError) throw new UsageError(e.message);
      throw e;
    }
  });
}

