/**
 * `strata export RUN_DIR`: a trained model out of a training run directory
 * (what `strata train` writes: model.strata.json, config.json, weights.npz,
 * checkpoints/step-N/weights.npz):
 *
 *   --format onnx (default)  the model for inference: eval mode, the trained weights baked in
 *   --format npz             the weights file, checked against the model and copied byte for byte
 *   --format trax            the model as Trax Python plus `load_strata_weights` (engine/tracecode/loader.ts)
 *
 * The weights are RUN_DIR/weights.npz (the latest checkpoint's), or --weights
 * FILE, or --checkpoint STEP; the input signature is config.json's unless
 * --input is given (another batch size is fine).
 */
import { statSync } from 'node:fs';
import { type ShapeDtype, SignatureSyntaxError, formatShapeDtype, parseShapeDtype } from '../engine/core/shape';
import { MODES, type Mode } from '../engine/layers/def';
import { RunDirError, type RunDir, TRAINED_FORMATS, type TrainedFormat, exportProblem, exportTrained, readRunDir } from '../engine/train/export';
import { type ParsedArgs, UsageError, choiceFlag, flag, intFlag, parseFlags } from './args';
import { type Io, reportModelError } from './common';
import '../kernels';

export const EXPORT_TRAINED_USAGE = `  export  RUN_DIR -o OUT [--format onnx|npz|trax] [--input SIG...] [--weights W.npz | --checkpoint STEP]
                [--probes all] [--inline-functions]    a trained model from a \`strata train\` run directory
`;

const FLAGS = {
  input: { value: true, repeat: true, alias: 'i' }, output: { value: true, alias: 'o' }, format: { value: true },
  weights: { value: true }, checkpoint: { value: true }, seed: { value: true }, mode: { value: true },
  probes: { value: true }, 'inline-functions': { value: false }, json: { value: false },
};

const isDir = (p: string): boolean => {
  try { return statSync(p).isDirectory(); } catch { return false; }
};

/** Whether `strata export` was given a folder (a run directory) as MODEL. */
export function isRunDirArgument(argv: readonly string[]): boolean {
  try {
    const p = parseFlags([...argv], FLAGS);
    return p.positional.length === 1 && isDir(p.positional[0]);
  } catch {
    // a bad flag: report it here when MODEL is a folder (exportTrainedCommand parses again)
    return argv.some((a) => !a.startsWith('-') && isDir(a));
  }
}

function signaturesFrom(p: ParsedArgs, run: RunDir): ShapeDtype[] {
  const given = p.flags.get('input') ?? [];
  const sig = given.length === 0 ? run.input : given.map((s) => {
    try {
      return parseShapeDtype(s);
    } catch (e) {
      if (e instanceof SignatureSyntaxError) throw new UsageError(e.message);
      throw e;
    }
  });
  for (const s of sig) if (s.shape.some((d) => typeof d !== 'number')) throw new UsageError(`export needs concrete sizes, got ${formatShapeDtype(s)}; give e.g. --input int32[8,512]`);
  return sig;
}

function internalError(io: Io, json: boolean, e: unknown): number {
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  if (process.env.STRATA_DEBUG && e instanceof Error) io.err(`${e.stack}\n`);
  return reportModelError(io, { code: 'runtime', path: '', kind: '', message: `internal error (a bug in Strata, please report it with the run directory): ${msg}` }, json);
}

export async function exportTrainedCommand(argv: string[], io: Io): Promise<number> {
  const p = parseFlags(argv, FLAGS);
  const json = p.flags.has('json');
  if (p.positional.length !== 1) throw new UsageError(`give one RUN_DIR, got ${p.positional.length}`);
  const format = choiceFlag<TrainedFormat>(p, 'format', TRAINED_FORMATS, 'onnx');
  const out = flag(p, 'output');
  if (!out) throw new UsageError(`give the output file with -o FILE (${format === 'onnx' ? 'model.onnx' : format === 'npz' ? 'weights.npz' : 'model.py'})`);
  if (p.flags.has('weights') && p.flags.has('checkpoint')) throw new UsageError('give --weights FILE or --checkpoint STEP, not both');
  for (const f of ['probes', 'inline-functions'] as const) if (format !== 'onnx' && p.flags.has(f)) throw new UsageError(`--${f} is for --format onnx`);
  const probes = flag(p, 'probes');
  if (probes !== undefined && probes !== 'all') throw new UsageError("--probes takes 'all'");
  const seed = intFlag(p, 'seed', 0);
  const mode = choiceFlag<Mode>(p, 'mode', MODES, 'eval');
  const checkpoint = p.flags.has('checkpoint') ? intFlag(p, 'checkpoint', 0) : undefined;
  let weightsPath = '';
  try {
    const run = readRunDir(p.positional[0], { weights: flag(p, 'weights'), checkpoint });
    weightsPath = run.weightsPath;
    const input = signaturesFrom(p, run);
    // the export itself is engine/train/export.ts's (the IDE's host exports through it too)
    const r = exportTrained(run, { format, out, input, mode, seed, inlineFunctions: p.flags.has('inline-functions'), probes: probes === 'all' });
    let summary: Record<string, unknown>;
    if (r.format === 'onnx') {
      summary = { file: r.file, format, weights_file: r.weights_file, bytes: r.bytes, nodes: r.nodes, functions: r.functions, weights: r.weights, inputs: r.inputs, outputs: r.outputs, probes: r.probes };
      if (!json) io.out(`wrote ${out}: ${r.bytes.toLocaleString('en-US')} bytes, ${r.nodes} nodes, ${r.functions} functions, ${r.weights} weight tensors from ${run.weightsPath} (mode ${mode})\n`);
    } else if (r.format === 'npz') {
      summary = { file: r.file, format, weights_file: r.weights_file, bytes: r.bytes, tensors: r.tensors };
      if (!json) io.out(`wrote ${out}: ${r.tensors} tensors from ${run.weightsPath} (checked against the model), ${r.bytes.toLocaleString('en-US')} bytes\n`);
    } else {
      summary = { file: r.file, format, weights_file: r.weights_file, bytes: r.bytes, layers: r.layers, weights: r.weights, state: r.state, notes: r.notes };
      if (!json) {
        io.out(`wrote ${out}: Trax code and a loader for ${r.weights} weight tensors in ${r.layers} layers\n`);
        io.out(`  python3 ${out} --weights ${run.weightsPath}    (Trax and JAX installed) builds the model, inits it and loads them\n`);
      }
    }
    if (json) io.out(`${JSON.stringify(summary)}\n`);
    else if (r.format === 'trax') for (const n of r.notes) io.err(`strata: note: ${n}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // a missing file or checkpoint is bad usage (exit 1); a damaged one a model error (exit 2)
    if (e instanceof RunDirError && e.code === 'missing') throw new UsageError(e.message);
    const problem = exportProblem(e, weightsPath);
    if (problem) return reportModelError(io, problem, json);
    return internalError(io, json, e);
  }
}
