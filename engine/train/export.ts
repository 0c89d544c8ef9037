/**
 * A trained model out of a training run directory (what engine/train/loop.ts
 * writes: model.strata.json, config.json, weights.npz,
 * checkpoints/step-N/weights.npz), for `strata export RUN_DIR` and the
 * IDE's "Export trained model" (the engine host):
 *
 *   onnx  the model for inference: eval mode, the trained weights baked in
 *   npz   the weights file, checked against the model and copied byte for byte
 *   trax  the model as Trax Python plus `load_strata_weights` (engine/tracecode/loader.ts)
 *
 * The weights are RUN_DIR/weights.npz (the latest checkpoint's), or a given
 * file, or checkpoint STEP's; the input signature is config.json's unless
 * another is given (another batch size is fine). Node only (it reads and
 * writes files).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelError } from '../core/errors';
import type { TensorValue } from '../core/onnx';
import { type ShapeDtype, SignatureSyntaxError, parseShapeDtype } from '../core/shape';
import { DocumentError, type StrataDocument, parseDocumentText } from '../document/schema';
import type { Mode } from '../layers/def';
import { LowerError, type Lowered, type WeightRef, lowerDocument } from '../onnx/lower';
import { modelChunks } from '../onnx/write';
import { LoaderError, type LoaderTable, loaderTable, tableKeys, trainedModelCode } from '../tracecode/loader';
import { InitializerError, WeightsFileError, readNpz, weightSource } from '../weights';
import { writeFileAtomic } from '../host/files';

export const TRAINED_FORMATS = ['onnx', 'npz', 'trax'] as const;
export type TrainedFormat = (typeof TRAINED_FORMATS)[number];

/**
 * A run directory that cannot be used. `missing`: a file is absent or
 * unreadable, or the checkpoint asked for does not exist (the CLI's bad
 * usage); the others: a damaged file.
 */
export class RunDirError extends Error {
  constructor(readonly code: 'missing' | 'bad_document' | 'bad_signature' | 'bad_weights', message: string) {
    super(message);
    this.name = 'RunDirError';
  }
}

export interface RunDir {
  dir: string;
  doc: StrataDocument;
  /** config.json's `input`: the signatures the model was trained on */
  input: ShapeDtype[];
  /** the weights file chosen and its bytes */
  weightsPath: string;
  weightsBytes: Uint8Array;
  weights: Map<string, TensorValue>;
}

const RUN_FILES = 'a run directory holds model.strata.json, config.json and weights.npz (written by `strata train --dir RUN_DIR`)';

function need(dir: string, name: string): string {
  const p = join(dir, name);
  if (!existsSync(p)) throw new RunDirError('missing', `${dir} is not a training run directory: it has no ${name}; ${RUN_FILES}`);
  return p;
}

function checkpointFile(dir: string, step: number): string {
  // the layout engine/train/checkpoint.ts writes: checkpoints/step-<8 digits>/weights.npz
  const p = join(dir, 'checkpoints', `step-${String(step).padStart(8, '0')}`, 'weights.npz');
  if (existsSync(p)) return p;
  let names: string[] = [];
  try { names = readdirSync(join(dir, 'checkpoints')); } catch { /* no checkpoints folder */ }
  const steps = names.map((n) => /^step-(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => !!m && existsSync(join(dir, 'checkpoints', m[0], 'weights.npz')))
    .map((m) => Number(m[1])).sort((a, b) => a - b);
  throw new RunDirError('missing', `${dir} has no checkpoint at step ${step}; ${steps.length ? `its checkpoints are at steps ${steps.join(', ')}` : 'it has no checkpoints'}`);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new RunDirError('missing', `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Reads a run directory: the document, config.json's input signature, and the chosen weights, each checked. */
export function readRunDir(dir: string, opts: { weights?: string; checkpoint?: number } = {}): RunDir {
  const docPath = need(dir, 'model.strata.json');
  const configPath = need(dir, 'config.json');
  const weightsPath = opts.weights ?? (opts.checkpoint !== undefined ? checkpointFile(dir, opts.checkpoint) : need(dir, 'weights.npz'));
  let doc: StrataDocument;
  try {
    doc = parseDocumentText(readText(docPath));
  } catch (e) {
    if (e instanceof DocumentError) throw new RunDirError('bad_document', `${docPath} is damaged: ${e.message}`);
    throw e;
  }
  const configText = readText(configPath);
  let config: unknown;
  try {
    config = JSON.parse(configText);
  } catch (e) {
    throw new RunDirError('bad_document', `${configPath} is damaged: not valid JSON (${(e as Error).message})`);
  }
  const raw = (config as { input?: unknown } | null)?.input;
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((s) => typeof s === 'string')) {
    throw new RunDirError('bad_signature', `${configPath} is damaged: its "input" must be a list of input signatures such as "float32[32,28,28,1]", got ${JSON.stringify(raw) ?? 'nothing'}`);
  }
  const input = (raw as string[]).map((s) => {
    try {
      return parseShapeDtype(s);
    } catch (e) {
      if (e instanceof SignatureSyntaxError) throw new RunDirError('bad_signature', `${configPath} is damaged: input signature "${s}": ${e.message}`);
      throw e;
    }
  });
  let weightsBytes: Uint8Array;
  try {
    weightsBytes = readFileSync(weightsPath);
  } catch (e) {
    throw new RunDirError('missing', `cannot read the weights file ${weightsPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let weights: Map<string, TensorValue>;
  try {
    weights = readNpz(weightsBytes);
  } catch (e) {
    if (e instanceof WeightsFileError) throw new RunDirError('bad_weights', `${weightsPath} is damaged: ${e.message}`);
    throw e;
  }
  return { dir, doc, input, weightsPath, weightsBytes, weights };
}

/**
 * Lowers the model with the run's weights (eval mode unless told): every
 * weight must be in the file with its shape and dtype (engine/weights), and
 * every key of the file must be one the model declares (a weight, or layer
 * state, which eval mode may not use).
 */
function lowerWithWeights(run: RunDir, input: ShapeDtype[], opts: { mode: Mode; seed: number; inlineFunctions?: boolean; probes?: boolean }): { low: Lowered; table: LoaderTable } {
  const source = weightSource([], { file: run.weights, seed: opts.seed, allowExtra: true });
  const used = new Set<string>();
  const low = lowerDocument({ root: run.doc.root, input }, {
    mode: opts.mode, seed: opts.seed, inlineFunctions: opts.inlineFunctions,
    probes: opts.probes ? 'all' : undefined, probeData: opts.probes,
    weightValue: (ref: WeightRef) => { used.add(ref.key); return source(ref); },
  });
  const table = loaderTable(low.trace);
  const keys = tableKeys(table);
  const declared = new Set([...used, ...keys.weights, ...keys.state, ...table.unplaced.map((u) => u.key)]);
  const extra = [...run.weights.keys()].filter((k) => !declared.has(k));
  if (extra.length) {
    throw new WeightsFileError(`${run.weightsPath} has keys the model does not have: ${extra.slice(0, 5).map((k) => `'${k}'`).join(', ')}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''} (is it another model's weights file?)`, extra[0]);
  }
  return { low, table };
}

/** The Trax loader needs every weight in its table from the file, with the table's shape; and the table must cover every weight the model has. */
function checkTable(run: RunDir, low: Lowered, table: LoaderTable): void {
  for (const leaf of table.weights) {
    for (const t of leaf.tensors) {
      const key = `${leaf.prefix}/${t.name}`;
      const v = run.weights.get(key);
      if (!v) throw new WeightsFileError(`${run.weightsPath} has no '${key}' (${leaf.kind} at ${leaf.path || '(root)'}, ${t.dtype}[${t.shape.join(',')}])`, key);
      if (v.dims.length !== t.shape.length || v.dims.some((d, i) => d !== t.shape[i])) {
        throw new WeightsFileError(`'${key}' is [${v.dims.join(',')}] in ${run.weightsPath}, the model needs [${t.shape.join(',')}]`, key);
      }
    }
  }
  const placed = new Set([...tableKeys(table).weights, ...table.unplaced.map((u) => u.key)]);
  const missing = low.weights.filter((r) => r.role === 'weight' && !placed.has(r.key));
  // a weight the lowering binds that the Trax table does not place would be lost: a bug here, not the user's
  if (missing.length) throw new Error(`the Trax loader table has no place for the weight '${missing[0].key}'`);
}

export interface ExportTrainedOptions {
  format: TrainedFormat;
  /** the file to write */
  out: string;
  /** concrete input signatures (default: config.json's) */
  input?: ShapeDtype[];
  /** onnx: the lowering's mode (default eval) */
  mode?: Mode;
  /** initializes what the file does not hold (layer state unused in eval mode) */
  seed?: number;
  inlineFunctions?: boolean;
  /** onnx: probe every layer's outputs */
  probes?: boolean;
}

interface Common { file: string; weights_file: string; bytes: number }

/** What was written; each format's fields are `strata export --json`'s summary. */
export type ExportTrainedResult =
  | Common & { format: 'onnx'; mode: Mode; nodes: number; functions: number; weights: number; inputs: string[]; outputs: string[]; probes: number }
  | Common & { format: 'npz'; tensors: number }
  | Common & { format: 'trax'; layers: number; weights: number; state: number; notes: string[] };

/**
 * Writes the trained model in `format`. Throws RunDirError, WeightsFileError,
 * InitializerError, LowerError or LoaderError for what the user can fix
 * (`exportProblem` turns them into a ModelError), and a file system error
 * when `out` cannot be written.
 */
export function exportTrained(run: RunDir, o: ExportTrainedOptions): ExportTrainedResult {
  const input = o.input ?? run.input;
  const mode = o.mode ?? 'eval';
  const { low, table } = lowerWithWeights(run, input, { mode, seed: o.seed ?? 0, inlineFunctions: o.inlineFunctions, probes: o.probes });
  const common = { file: o.out, weights_file: run.weightsPath };
  if (o.format === 'onnx') {
    const bytes = writeFileAtomic(o.out, modelChunks(low.model));
    return {
      ...common, format: 'onnx', mode, bytes, nodes: low.model.graph.nodes.length, functions: low.model.functions.length, weights: low.weights.length,
      inputs: low.inputs.map((i) => `${i.dtype}[${i.shape.join(',')}]`), outputs: low.outputs.map((x) => `${x.dtype}[${x.shape.join(',')}]`), probes: low.probes.length,
    };
  }
  if (o.format === 'npz') {
    const bytes = writeFileAtomic(o.out, run.weightsBytes);
    return { ...common, format: 'npz', bytes, tensors: run.weights.size };
  }
  const keys = tableKeys(table);
  // keys the file holds that the Trax model has no place for are said, not dropped
  const notes = table.unplaced.filter((u) => run.weights.has(u.key)).map((u) => `'${u.key}' is not loaded into Trax: ${u.why}`);
  checkTable(run, low, table);
  const bytes = writeFileAtomic(o.out, trainedModelCode({ root: run.doc.root, input }, table));
  return { ...common, format: 'trax', bytes, layers: table.weights.length, weights: keys.weights.length, state: keys.state.length, notes };
}

/**
 * The user's problem in an export's failure, as a ModelError (undefined for
 * anything else: a bug, or a file system error). `weightsPath` prefixes
 * weights messages that do not name the file.
 */
export function exportProblem(e: unknown, weightsPath: string): ModelError | undefined {
  const m = (code: ModelError['code'], message: string): ModelError => ({ code, path: '', kind: '', message });
  if (e instanceof RunDirError) return m(e.code === 'missing' ? 'bad_input' : e.code, e.message);
  if (e instanceof WeightsFileError || e instanceof InitializerError) return m('bad_weights', e.message.includes(weightsPath) ? e.message : `${weightsPath}: ${e.message}`);
  if (e instanceof LowerError) return e.error;
  if (e instanceof LoaderError) return m('unsupported', e.message);
  return undefined;
}
