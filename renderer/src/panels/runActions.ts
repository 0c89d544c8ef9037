/**
 * Run: the request from the document and the run settings, sent to the host;
 * the response kept in runState.
 */
import type { StoreApi } from 'zustand/vanilla';
import { type Dim, isSymbolName, parseDim } from '../../../engine/core/dim';
import { isFloat, type ShapeDtype } from '../../../engine/core/shape';
import type { HostApi, InputSource, RunRequest } from '../../../engine/host/api';
import { documentToJson, type StrataDocument } from '../../../engine/document/schema';
import type { StrataState } from '../state/store';
import { type InputChoice, type RunSettings, useRunState } from './runState';
import { traceIndex } from './traceIndex';
import type { DocumentTrace } from '../../../engine/document/trace';

const DEFAULT_SIZES: Record<string, number> = { B: 2, L: 64 };

/** The plain symbols of the input signature, in order of appearance. */
export function inputSymbols(input: readonly ShapeDtype[]): string[] {
  const out: string[] = [];
  for (const x of input) {
    for (const d of x.shape) {
      if (typeof d !== 'string') continue;
      for (const m of d.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) {
        if (isSymbolName(m[0]) && !out.includes(m[0])) out.push(m[0]);
      }
    }
  }
  return out;
}

export function sizeOf(sizes: Record<string, number>, sym: string): number {
  return sizes[sym] ?? DEFAULT_SIZES[sym] ?? 16;
}

/** A dimension with the symbols bound (left symbolic when it does not come out as a number). */
export function bindDim(d: Dim, sizes: Record<string, number>): Dim {
  if (typeof d === 'number') return d;
  const text = d.replace(/[A-Za-z_][A-Za-z0-9_]*/g, (s) => (isSymbolName(s) ? String(sizeOf(sizes, s)) : s));
  try {
    return parseDim(text);
  } catch {
    return d;
  }
}

/** The vocabulary of the first Embedding (what integer inputs index), or 100. */
export function guessVocab(trace: DocumentTrace): number {
  for (const info of traceIndex(trace).order) {
    const v = info.trace.analysis.params.vocab_size;
    if (typeof v === 'number' && v > 0) return v;
  }
  return 100;
}

export function defaultChoice(x: ShapeDtype, vocab: number): InputChoice {
  return { kind: isFloat(x.dtype) ? 'normal' : x.dtype === 'bool' ? 'zeros' : 'randint', vocab, path: '' };
}

export function choiceFor(settings: RunSettings, i: number, x: ShapeDtype, trace: DocumentTrace): InputChoice {
  return settings.inputs[i] ?? defaultChoice(x, guessVocab(trace));
}

function source(c: InputChoice): InputSource {
  switch (c.kind) {
    case 'normal': return { kind: 'normal' };
    case 'randint': return { kind: 'randint', vocab: Math.max(1, Math.floor(c.vocab)) };
    case 'zeros': return { kind: 'zeros' };
    case 'file': return { kind: 'file', path: c.path };
  }
}

export function buildRunRequest(doc: StrataDocument, trace: DocumentTrace, settings: RunSettings): RunRequest {
  const json = documentToJson(doc) as { input: { dtype: string; shape: Dim[] }[] };
  json.input = doc.input.map((x) => ({ dtype: x.dtype, shape: x.shape.map((d) => bindDim(d, settings.sizes)) }));
  return {
    doc: json,
    inputs: doc.input.map((x, i) => source(choiceFor(settings, i, x, trace))),
    seed: settings.seed,
    mode: settings.mode,
    provider: settings.provider,
  };
}

export async function runModel(store: StoreApi<StrataState>, host: HostApi): Promise<void> {
  const rs = useRunState.getState();
  if (rs.running) return;
  const { doc, trace } = store.getState();
  const bad = rs.settings.inputs.findIndex((c, i) => i < doc.input.length && c.kind === 'file' && !c.path.trim());
  if (bad >= 0) {
    useRunState.setState({ error: { code: 'bad_input', path: '', kind: '', message: `input ${bad}: give the path of a .npy or .json file` }, response: null });
    return;
  }
  const req = buildRunRequest(doc, trace, rs.settings);
  useRunState.setState({ running: true });
  try {
    const response = await host.run(req);
    useRunState.setState({
      running: false, response, forDoc: doc, stale: store.getState().doc !== doc,
      error: response.ok ? null : response.error,
      // a run replaces the tensor shown with the same edge of the new run
    });
  } catch (e) {
    useRunState.setState({
      running: false, response: null, forDoc: doc, stale: false,
      error: { code: 'runtime', path: '', kind: '', message: `the host could not run the model: ${(e as Error).message ?? String(e)}` },
    });
  }
}
