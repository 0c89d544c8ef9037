/**
 * Checkpoints of a training run, written so that a process killed at any
 * moment leaves either the previous checkpoint or the new one, never half of
 * one:
 *
 *   RUN_DIR/checkpoints/step-00000100/{weights.npz, optimizer.npz, meta.json}
 *   RUN_DIR/weights.npz            the latest checkpoint's weights (what `strata run --weights` reads)
 *
 * A checkpoint is written into a temporary folder beside the others, each
 * file flushed to disk, and the folder renamed into place (one atomic
 * rename); `weights.npz` is then replaced the same way. Folders whose names
 * are not `step-<n>` (a temporary folder of a killed writer) are ignored and
 * swept. Node only.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorValue } from '../core/onnx';
import { readNpz, writeNpz } from '../weights';
import { writeFileAtomic } from '../host/files';

export const CHECKPOINT_FORMAT = 'strata-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** optimizer steps taken */
  step: number;
  seed: number;
  /** where the data stream stands (the task's own JSON: resuming continues from here) */
  data: unknown;
  /** training time so far, seconds (resumed runs add to it) */
  time_s: number;
  /** the run's configuration fingerprint: a resume with another configuration is refused */
  config: string;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  /** trainable weights and layer state, by tree-path key */
  weights: Map<string, TensorValue>;
  /** optimizer slots by name (`opt/<key>/<slot>`) */
  optimizer: Map<string, TensorValue>;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const STEP_DIR = /^step-(\d+)$/;
const stepDir = (step: number): string => `step-${String(step).padStart(8, '0')}`;

function fsyncPath(path: string): void {
  // a folder's entry (the rename) reaches the disk when the folder is flushed; not every platform allows it
  try {
    const fd = openSync(path, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* best effort (Windows cannot open folders) */ }
}

/** Writes a checkpoint atomically, points RUN_DIR/weights.npz at its weights, and keeps the newest `keep`. */
export function saveCheckpoint(runDir: string, ckpt: Checkpoint, keep = 3): string {
  const root = join(runDir, 'checkpoints');
  mkdirSync(root, { recursive: true });
  const final = join(root, stepDir(ckpt.meta.step));
  const tmp = join(root, `.tmp-${stepDir(ckpt.meta.step)}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(tmp);
  try {
    const weights = writeNpz([...ckpt.weights]);
    writeFileAtomic(join(tmp, 'weights.npz'), weights, true);
    writeFileAtomic(join(tmp, 'optimizer.npz'), writeNpz([...ckpt.optimizer]), true);
    writeFileAtomic(join(tmp, 'meta.json'), `${JSON.stringify(ckpt.meta, null, 2)}\n`, true);
    fsyncPath(tmp);
    // the same step saved again (a resumed run stopped at once): the new one replaces it
    if (existsSync(final)) rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    fsyncPath(root);
    writeFileAtomic(join(runDir, 'weights.npz'), weights, true);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  prune(root, keep);
  return final;
}

function prune(root: string, keep: number): void {
  const steps = listSteps(root);
  for (const s of steps.slice(0, Math.max(0, steps.length - keep))) rmSync(join(root, stepDir(s)), { recursive: true, force: true });
  // temporary folders of writers that died
  for (const name of readdirSync(root)) {
    if (name.startsWith('.tmp-') && !name.includes(`-${process.pid}-`)) rmSync(join(root, name), { recursive: true, force: true });
  }
}

function listSteps(root: string): number[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).map((n) => STEP_DIR.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => a - b);
}

/** The steps of the run's complete checkpoints, oldest first. */
export function checkpointSteps(runDir: string): number[] {
  return listSteps(join(runDir, 'checkpoints'));
}

/** One checkpoint, read and checked. */
export function loadCheckpoint(runDir: string, step: number): Checkpoint {
  const dir = join(runDir, 'checkpoints', stepDir(step));
  const read = (name: string): Uint8Array => {
    try {
      return readFileSync(join(dir, name));
    } catch (e) {
      throw new CheckpointError(`checkpoint ${dir} has no readable ${name} (${(e as Error).message.split('\n')[0]})`);
    }
  };
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(read('meta.json'))) as CheckpointMeta;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`checkpoint ${dir}: meta.json is not JSON (${(e as Error).message})`);
  }
  if (meta.format !== CHECKPOINT_FORMAT || typeof meta.step !== 'number') throw new CheckpointError(`checkpoint ${dir}: meta.json is not a Strata checkpoint`);
  if (meta.version > CHECKPOINT_VERSION) throw new CheckpointError(`checkpoint ${dir} was written by a newer Strata (format version ${meta.version}; this one reads ${CHECKPOINT_VERSION})`);
  const npz = (name: string): Map<string, TensorValue> => {
    try {
      return readNpz(read(name));
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(`checkpoint ${dir}: ${name} is damaged (${(e as Error).message})`);
    }
  };
  return { meta, weights: npz('weights.npz'), optimizer: npz('optimizer.npz') };
}

/** The newest checkpoint of a run, or undefined when it has none. */
export function latestCheckpoint(runDir: string): Checkpoint | undefined {
  const steps = checkpointSteps(runDir);
  return steps.length ? loadCheckpoint(runDir, steps[steps.length - 1]) : undefined;
}
