/**
 * `taskFromSpec`: the `--task` of `strata train` (mnist, copy, reverse,
 * duplicate, addition, text:FILE, data:FILE) with its options.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { mnistTask } from './mnist';
import { SEQUENCE_TASKS, sequenceTask, type SequenceTaskName } from './synthetic';
import { DataError, type FeedDtype, type Task } from './task';
import { textTask } from './text';
import { userDataTask } from './user';

export const TASK_NAMES = ['mnist', ...SEQUENCE_TASKS, 'text:FILE', 'data:FILE'] as const;

export interface TaskOptions {
  /** examples per batch (default 32) */
  batchSize?: number;
  /** shuffling and generation seed (default 0) */
  seed?: number;
  /** eval batches one evaluation runs: synthetic tasks' count (default 10), a cap for the others (default all) */
  evalBatches?: number;
  /** sequence length L: synthetic tasks (default 32), text windows (default 64), padding of data sequences */
  length?: number;
  /** synthetic tasks: token ids in [0, vocabSize) */
  vocabSize?: number;
  /** synthetic tasks: the shortest content (see synthetic.ts) */
  minLength?: number;
  /** text and data: the fraction held out for evaluation (default 0.1) */
  evalFraction?: number;
  /** data: which examples are held out */
  split?: 'last' | 'random';
  /** data (CSV): the label column */
  labelColumn?: number | string;
  /** data: force the inputs' / targets' dtype */
  inputDtype?: FeedDtype;
  targetDtype?: FeedDtype;
  /** text and data: FILE is relative to this folder (default the process's working directory) */
  cwd?: string;
}

type OptionName = keyof TaskOptions;
const COMMON: OptionName[] = ['batchSize', 'seed', 'evalBatches'];
const APPLIES: Record<'mnist' | 'sequence' | 'text' | 'data', OptionName[]> = {
  mnist: COMMON,
  sequence: [...COMMON, 'length', 'vocabSize', 'minLength'],
  text: [...COMMON, 'length', 'evalFraction', 'cwd'],
  data: [...COMMON, 'length', 'evalFraction', 'split', 'labelColumn', 'inputDtype', 'targetDtype', 'cwd'],
};
const ALL_OPTIONS = new Set<string>(Object.values(APPLIES).flat());

function checkOptions(family: keyof typeof APPLIES, spec: string, o: TaskOptions): void {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (!ALL_OPTIONS.has(k)) throw new DataError('bad_option', `unknown task option '${k}'; the options are ${[...ALL_OPTIONS].join(', ')}`);
    if (!APPLIES[family].includes(k as OptionName)) throw new DataError('bad_option', `the option '${k}' does not apply to the task ${spec} (it takes ${APPLIES[family].join(', ')})`);
  }
  if (o.evalBatches !== undefined && family === 'mnist') throw new DataError('bad_option', 'the option \'evalBatches\' does not apply to the task mnist (it always evaluates all held-out digits)');
}

/** The file of text:FILE / data:FILE, checked to exist. */
function fileOf(kind: string, name: string, cwd: string | undefined): string {
  if (!name) throw new DataError('unknown_task', `${kind}: names no file (write ${kind}:path/to/file)`);
  const path = isAbsolute(name) ? name : resolve(cwd ?? process.cwd(), name);
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new DataError('missing_file', `${kind}:${name}: no such file (looked for ${path})`);
  }
  if (!st.isFile()) throw new DataError('missing_file', `${kind}:${name}: is not a file (${path})`);
  return path;
}

/** The task a `--task` value names, with its options checked. */
export async function taskFromSpec(spec: string, options: TaskOptions = {}): Promise<Task> {
  const batchSize = options.batchSize ?? 32;
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new DataError('bad_option', `the batch size must be a positive integer, got ${batchSize}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new DataError('bad_option', `the seed must be a non-negative integer, got ${seed}`);
  const common = { batchSize, seed };
  const colon = spec.indexOf(':');
  const head = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  if (head === 'text' || head === 'data') {
    if (colon < 0) throw new DataError('unknown_task', `${head}: names no file (write ${head}:path/to/file)`);
    checkOptions(head, spec, options);
    const file = fileOf(head, rest, options.cwd);
    const o = { ...options, ...common };
    return head === 'text' ? textTask(file, rest, o) : userDataTask(file, rest, o);
  }
  if (colon < 0 && spec === 'mnist') {
    checkOptions('mnist', spec, options);
    return mnistTask(common);
  }
  if (colon < 0 && (SEQUENCE_TASKS as readonly string[]).includes(spec)) {
    checkOptions('sequence', spec, options);
    return sequenceTask(spec as SequenceTaskName, { ...options, ...common });
  }
  throw new DataError('unknown_task', `unknown task '${spec}'; the tasks are ${TASK_NAMES.join(', ')}`);
}
