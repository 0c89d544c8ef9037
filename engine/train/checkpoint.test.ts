import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TensorValue } from '../core/onnx';
import { readNpz } from '../weights';
import { type Checkpoint, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, checkpointSteps, latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';

const t = (values: number[]): TensorValue => ({ dtype: 'float32', dims: [values.length], data: Float32Array.from(values) });
const ckpt = (step: number): Checkpoint => ({
  meta: { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, step, seed: 1, data: { batches: step }, time_s: step / 10, config: 'abc' },
  weights: new Map([['Serial[0]/Dense/kernel', t([step, 2, 3])]]),
  optimizer: new Map([['opt/Serial[0]/Dense/kernel/m', t([0.5, step])]]),
});

describe('checkpoints', () => {
  it('round-trips, keeps the newest, and points weights.npz at the latest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-ckpt-'));
    for (const s of [10, 20, 30, 40]) saveCheckpoint(dir, ckpt(s), 3);
    expect(checkpointSteps(dir)).toEqual([20, 30, 40]);
    const last = latestCheckpoint(dir)!;
    expect(last.meta.step).toBe(40);
    expect(last.meta.data).toEqual({ batches: 40 });
    expect(Array.from(last.weights.get('Serial[0]/Dense/kernel')!.data as Float32Array)).toEqual([40, 2, 3]);
    expect(Array.from(last.optimizer.get('opt/Serial[0]/Dense/kernel/m')!.data as Float32Array)).toEqual([0.5, 40]);
    const top = readNpz(readFileSync(join(dir, 'weights.npz')));
    expect(Array.from(top.get('Serial[0]/Dense/kernel')!.data as Float32Array)).toEqual([40, 2, 3]);
  });

  it('ignores and sweeps the half-written folder of a killed writer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-ckpt-'));
    saveCheckpoint(dir, ckpt(5));
    // what a writer killed mid-checkpoint leaves: a temporary folder with part of the files
    const dead = join(dir, 'checkpoints', '.tmp-step-00000010-999999-x');
    mkdirSync(dead);
    writeFileSync(join(dead, 'weights.npz'), new Uint8Array([1, 2, 3]));
    expect(checkpointSteps(dir)).toEqual([5]);
    expect(latestCheckpoint(dir)!.meta.step).toBe(5);
    saveCheckpoint(dir, ckpt(10));
    expect(readdirSync(join(dir, 'checkpoints')).sort()).toEqual(['step-00000005', 'step-00000010']);
  });

  it('a run without checkpoints has no latest', () => {
    expect(latestCheckpoint(mkdtempSync(join(tmpdir(), 'strata-ckpt-')))).toBeUndefined();
  });

  it('a damaged checkpoint is a clear error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-ckpt-'));
    saveCheckpoint(dir, ckpt(7));
    const f = join(dir, 'checkpoints', 'step-00000007', 'optimizer.npz');
    writeFileSync(f, new Uint8Array([80, 75, 3, 4, 0, 0]));
    expect(() => loadCheckpoint(dir, 7)).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir, 7)).toThrow(/optimizer\.npz is damaged/);
    writeFileSync(join(dir, 'checkpoints', 'step-00000007', 'meta.json'), '{"format": "other"}');
    expect(() => loadCheckpoint(dir, 7)).toThrow(/not a Strata checkpoint/);
  });
});
