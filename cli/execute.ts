/** `strata run`, `strata export`, `strata weights`: the commands that execute or write a model. */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../engine/host/files';
import type { TensorValue } from '../engine/core/onnx';
import { TensorJsonError, tensorToJson, tensorsFromJsonText } from '../engine/core/tensors-json';
import { type ShapeDtype, formatShapeDtype } from '../engine/core/shape';
import { MODES, type Mode } from '../engine/layers/def';
import { LowerError, type WeightRef, lowerDocument } from '../engine/onnx/lower';
import { modelChunks } from '../engine/onnx/write';
import { PROVIDERS, ProviderError, type Provider } from '../engine/runtime/session';
import { RunError, runModel } from '../engine/runtime/run';
import { InitializerError, WeightsFileError, initialValue, readNpz, weightSource, writeNpz } from '../engine/weights';
import { type ParsedArgs, UsageError, choiceFlag, flag, intFlag, parseFlags } from './args';
import type { LoadedModel } from './load';
import { type Io, readModel, reportModelError, signatures } from './common';
import { exportTrainedCommand, isRunDirArgument } from './export-trained';
import '../kernels';

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

function weightsError(io: Io, json: boolean, message: string): number {
  return reportModelError(io, { code: 'bad_weights', path: '', kind: '', message }, json);
}

/**
 * The value of each weight: from the weights file when given (checked by
 * engine/weights: key present, same shape and dtype; state missing from the
 * file starts from its initializer), else initialized from the seed. Records
 * the keys used, so keys the model does not use can be reported after.
 */
function weightValues(file: Map<string, TensorValue> | undefined, seed: number, used: Set<string>): (ref: WeightRef) => TensorValue {
  const source = weightSource([], { file, seed, allowExtra: true });
  return (ref) => { used.add(ref.key); return source(ref); };
}

function checkExtraKeys(file: Map<string, TensorValue> | undefined, used: Set<string>): void {
  if (!file) return;
  const extra = [...file.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new WeightsFileError(`the weights file has keys the model does not use: ${extra.slice(0, 5).map((k) => `'${k}'`).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}`, extra[0]);
}

function loadWeightsFile(p: ParsedArgs): Map<string, TensorValue> | undefined {
  const path = flag(p, 'weights');
  if (!path) return undefined;
  return readNpz(readBytes(path, 'weights file'));
}

const RUN_FLAGS = {
  inputs: { value: true }, weights: { value: true }, seed: { value: true }, mode: { value: true },
  provider: { value: true }, probe: { value: true }, 'probe-data': { value: false }, 'inline-functions': { value: false },
  'no-fallback': { value: false }, json: { value: false }, state: { value: true }, 'state-out': { value: true },
};

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const p = parseFlags(argv, RUN_FLAGS);
  const json = p.flags.has('json');
  const seed = intFlag(p, 'seed', 0);
  const mode = choiceFlag<Mode>(p, 'mode', MODES, 'eval');
  const provider = choiceFlag<Provider>(p, 'provider', PROVIDERS, 'cpu');
  const probeFlag = flag(p, 'probe');
  const probes = probeFlag === undefined ? undefined : probeFlag === 'all' ? 'all' as const : probeFlag.split(',').map((s) => s.trim());
  const inputsPath = flag(p, 'inputs');
  if (!inputsPath) throw new UsageError('run needs --inputs FILE.json (an array of tensors in stack order, top first)');
  const model = readModel(p, io, json);
  if (typeof model === 'number') return model;
  const text = new TextDecoder().decode(readBytes(inputsPath, 'inputs file'));
  try {
    const inputs = tensorsFromJsonText(text, inputsPath);
    const file = loadWeightsFile(p);
    const used = new Set<string>();
    const statePath = flag(p, 'state');
    const stateOut = flag(p, 'state-out');
    const state = statePath ? readNpz(readBytes(statePath, 'state file')) : stateOut ? new Map<string, TensorValue>() : undefined;
    const result = await runModel({
      state,
      root: model.doc.root, declared: model.doc.input, inputs, mode, seed, provider, probes,
      probeData: p.flags.has('probe-data') || probes !== undefined,
      inlineFunctions: p.flags.has('inline-functions'),
      strictProvider: p.flags.has('no-fallback'),
      weightValue: weightValues(file, seed, used),
    });
    checkExtraKeys(file, used);
    if (stateOut && result.state) writeFileAtomic(stateOut, [writeNpz([...result.state.entries()])]);
    for (const n of result.notes) io.err(`strata: ${n}; running on ${result.provider}\n`);
    const out = {
      provider: result.provider,
      outputs: result.outputs.map(tensorToJson),
      probes: result.probes.map((r) => ({
        path: r.path, kind: r.kind, index: r.index, dtype: r.dtype, shape: r.shape,
        stats: jsonStats(r.stats), ...(r.data ? { data: tensorToJson(r.data).data } : {}),
      })),
    };
    if (json) io.out(JSON.stringify(out) + '\n');
    else {
      io.out(`provider: ${result.provider}\n`);
      result.outputs.forEach((o, i) => io.out(`output ${i}: ${o.dtype}[${o.dims.join(',')}] ${preview(o)}\n`));
      for (const r of result.probes) io.out(`probe ${r.path || '(output)'} #${r.index}: ${r.dtype}[${r.shape.join(',')}] min ${r.stats.min} max ${r.stats.max} mean ${r.stats.mean} std ${r.stats.std} nan ${r.stats.nan} inf ${r.stats.inf}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof TensorJsonError) return reportModelError(io, { code: 'bad_input', path: '', kind: '', message: e.message }, json);
    if (e instanceof WeightsFileError || e instanceof InitializerError) return weightsError(io, json, e.message);
    if (e instanceof RunError || e instanceof LowerError) return reportModelError(io, e.error, json);
    if (e instanceof ProviderError) return reportModelError(io, { code: 'runtime', path: '', kind: '', message: e.message }, json);
    if (e instanceof Error && p.flags.has('no-fallback')) {
      // the requested provider refused the model (a node it cannot place, or it cannot start)
      return reportModelError(io, { code: 'runtime', path: '', kind: '', message: `provider ${provider}: ${e.message.split('\n')[0]}` }, json);
    }
    return internalError(io, json, e);
  }
}

function jsonStats(s: { min: number; max: number; mean: number; std: number; nan: number; inf: number }): Record<string, number | string> {
  const f = (x: number) => (Number.isFinite(x) ? x : Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');
  return { min: f(s.min), max: f(s.max), mean: f(s.mean), std: f(s.std), nan: s.nan, inf: s.inf };
}

function preview(t: TensorValue): string {
  const vals = Array.from(t.data as ArrayLike<number>).slice(0, 6).map((x) => (typeof x === 'number' ? Number(x.toPrecision(6)) : String(x)));
  return `[${vals.join(', ')}${t.data.length > 6 ? ', …' : ''}]`;
}

function concreteInputs(sig: ShapeDtype[]): void {
  for (const s of sig) if (s.shape.some((d) => typeof d !== 'number')) throw new UsageError(`export needs concrete sizes, got ${formatShapeDtype(s)}; give e.g. --input int32[8,512]`);
}

function outPath(p: ParsedArgs, what: string): string {
  const o = flag(p, 'output');
  if (!o) throw new UsageError(`give the ${what} file with -o FILE`);
  return o;
}

async function lowered(argv: string[], io: Io, extra: Record<string, { value: boolean }>): Promise<{ p: ParsedArgs; model: LoadedModel; input: ShapeDtype[] } | number> {
  const p = parseFlags(argv, { input: { value: true, repeat: true, alias: 'i' }, output: { value: true, alias: 'o' }, seed: { value: true }, json: { value: false }, ...extra });
  const model = readModel(p, io, p.flags.has('json'));
  if (typeof model === 'number') return model;
  const input = signatures(p, model);
  concreteInputs(input);
  return { p, model, input };
}

export async function exportCommand(argv: string[], io: Io): Promise<number> {
  // MODEL is a training run directory: the trained model (cli/export-trained.ts)
  if (isRunDirArgument(argv)) return exportTrainedCommand(argv, io);
  const r = await lowered(argv, io, { weights: { value: true }, mode: { value: true }, 'inline-functions': { value: false }, probes: { value: true } });
  if (typeof r === 'number') return r;
  const { p, model, input } = r;
  const json = p.flags.has('json');
  const out = outPath(p, 'output .onnx');
  const seed = intFlag(p, 'seed', 0);
  const mode = choiceFlag<Mode>(p, 'mode', MODES, 'eval');
  const probesFlag = flag(p, 'probes');
  if (probesFlag !== undefined && probesFlag !== 'all') throw new UsageError("--probes takes 'all'");
  try {
    const file = loadWeightsFile(p);
    const used = new Set<string>();
    const low = lowerDocument({ root: model.doc.root, input }, {
      mode, seed, inlineFunctions: p.flags.has('inline-functions'), probes: probesFlag ? 'all' : undefined, probeData: !!probesFlag,
      weightValue: weightValues(file, seed, used),
    });
    checkExtraKeys(file, used);
    const bytes = writeFileAtomic(out, modelChunks(low.model));
    const summary = { file: out, bytes, nodes: low.model.graph.nodes.length, functions: low.model.functions.length, weights: low.weights.length, inputs: low.inputs.map((i) => `${i.dtype}[${i.shape.join(',')}]`), outputs: low.outputs.map((o) => `${o.dtype}[${o.shape.join(',')}]`) };
    io.out(json ? `${JSON.stringify(summary)}\n` : `wrote ${out}: ${bytes.toLocaleString('en-US')} bytes, ${summary.nodes} nodes, ${summary.functions} functions, ${summary.weights} weight tensors\n`);
    return 0;
  } catch (e) {
    if (e instanceof WeightsFileError || e instanceof InitializerError) return weightsError(io, json, e.message);
    if (e instanceof LowerError) return reportModelError(io, e.error, json);
    return internalError(io, json, e);
  }
}

/** Anything else is a bug in Strata: said so, with exit 2, never a stack trace on a user's screen. */
function internalError(io: Io, json: boolean, e: unknown): number {
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  if (process.env.STRATA_DEBUG && e instanceof Error) io.err(`${e.stack}\n`);
  return reportModelError(io, { code: 'runtime', path: '', kind: '', message: `internal error (a bug in Strata, please report it with the model): ${msg}` }, json);
}

export async function weightsCommand(argv: string[], io: Io): Promise<number> {
  const r = await lowered(argv, io, {});
  if (typeof r === 'number') return r;
  const { p, model, input } = r;
  const out = outPath(p, 'output .npz');
  const seed = intFlag(p, 'seed', 0);
  try {
    const entries: [string, TensorValue][] = [];
    lowerDocument({ root: model.doc.root, input }, {
      seed, weightValue: (ref) => { const v = initialValue(ref, seed); entries.push([ref.key, v]); return v; },
    });
    const bytes = writeFileAtomic(out, [writeNpz(entries)]);
    io.out(`wrote ${out}: ${entries.length} tensors, ${bytes.toLocaleString('en-US')} bytes\n`);
    return 0;
  } catch (e) {
    if (e instanceof InitializerError) return weightsError(io, p.flags.has('json'), e.message);
    if (e instanceof LowerError) return reportModelError(io, e.error, p.flags.has('json'));
    throw e;
  }
}
