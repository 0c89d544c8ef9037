/**
 * The `strata` command. Contracts (read by other tools) are in README.md.
 * Exit codes: 0 success, 1 bad usage (unknown flag, unreadable file),
 * 2 a model error (printed as {"error": {...}} with --json).
 */
import { formatShapeDtype, shapeDtypeToJson } from '../engine/core/shape';
import { traceDocument } from '../engine/document/trace';
import { summaryRows } from '../engine/document/summary';
import { UsageError, flag, parseFlags } from './args';
import { type Io, readModel, reportModelError, signatures } from './common';
import { formatTable } from './table';
import { exportCommand, runCommand, weightsCommand } from './execute';
import { TRAIN_USAGE, trainCommand } from './train';
import { EXPORT_TRAINED_USAGE } from './export-trained';

export type { Io };

const USAGE = `usage: strata <command> [options]

commands:
  shapes  MODEL --input SIG [--input SIG ...] [--json]    the stack trace (machine form with --json)
  summary MODEL --input SIG [--input SIG ...] [--depth N] a table: one row per layer, stacks and parameters
  run     MODEL --inputs FILE.json [--weights W.npz] [--seed N] [--mode train|eval|predict]
                [--provider cpu|webgpu|cuda|dml] [--probe all|PATH,...] [--probe-data] [--inline-functions]
                [--state S.npz] [--state-out S.npz] [--json]     (state: predict-mode carries and caches across runs)
  export  MODEL --input SIG... -o OUT.onnx [--weights W.npz] [--seed N] [--mode M] [--inline-functions] [--probes all]
${EXPORT_TRAINED_USAGE}  weights MODEL --input SIG... -o W.npz [--seed N]         the model's initial weights, keyed by tree path
${TRAIN_USAGE}
  MODEL  a .strata.json file, a .py file holding one Trax expression, or the expression itself
  SIG    dtype[dims], e.g. float32[2,3], int32[B,128], bool[4]; one per model input, top of the stack first
`;

function shapes(argv: string[], io: Io, table: boolean): number {
  const p = parseFlags(argv, { input: { value: true, repeat: true, alias: 'i' }, json: { value: false }, depth: { value: true } });
  const json = p.flags.has('json');
  const model = readModel(p, io, json);
  if (typeof model === 'number') return model;
  const depthFlag = flag(p, 'depth');
  const depth = depthFlag === undefined ? Infinity : Number(depthFlag);
  if (!Number.isInteger(depth) && depth !== Infinity) throw new UsageError('--depth needs a non-negative integer');
  const t = traceDocument({ root: model.doc.root, input: signatures(p, model) });
  if (t.errors.length) return reportModelError(io, t.errors[0], json);
  const rows = summaryRows(t);
  if (table) {
    io.out(formatTable(rows.filter((r) => r.depth <= depth), t) + '\n');
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
  const result = { n_in: arity.nIn, n_out: arity.nOut, outputs: (t.output ?? []).map(shapeDtypeToJson), params: t.params, layers };
  if (json) io.out(JSON.stringify(result) + '\n');
  else {
    io.out(`n_in ${arity.nIn}, n_out ${arity.nOut}, params ${t.params}\n`);
    io.out(`outputs: ${(t.output ?? []).map(formatShapeDtype).join(', ') || '(empty)'}\n`);
  }
  return 0;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'shapes': return shapes(rest, io, false);
      case 'summary': return shapes(rest, io, true);
      case 'run': return await runCommand(rest, io);
      case 'export': return await exportCommand(rest, io);
      case 'weights': return await weightsCommand(rest, io);
      case 'train': return await trainCommand(rest, io, { tty: process.stderr.isTTY });
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`strata: ${e.message}\n\n${USAGE}`);
      return 1;
    }
    throw e;
  }
}
