/**
 * `strata train` as a user meets it: short runs whose loss must go down (the
 * full accuracy bars are bench/train.ts), the metrics and --json contracts,
 * kill -9 and resume giving the weights of a run that never stopped, Ctrl-C
 * stopping after a checkpoint, and bad input giving a clear message.
 */
import { describe, expect, it } from 'vitest';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpz } from '../engine/weights';
import { repoRoot } from '../test/shared';

const base = mkdtempSync(join(tmpdir(), 'strata-train-'));
let n = 0;
const fresh = (name: string): string => join(base, `${++n}-${name}`);
const cli = join(repoRoot, 'bin', 'strata.js');
const MLP = join(repoRoot, 'assets/examples/mlp-mnist.strata.json');

function strata(args: string[]): { code: number; out: string; err: string; json: any } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  let json: unknown;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, json };
}

interface Line { step: number; split: 'train' | 'eval'; loss: number; accuracy?: number; lr: number; steps_per_s: number; time_s: number }
const metrics = (dir: string): Line[] => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
const trainLoss = (dir: string): number[] => metrics(dir).filter((l) => l.split === 'train').map((l) => l.loss);

function waitFor(cond: () => boolean, child: ChildProcess, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      if (cond()) return resolve();
      if (child.exitCode !== null) return reject(new Error(`the run ended (exit ${child.exitCode}) before the condition held`));
      if (Date.now() - t0 > ms) return reject(new Error('timed out'));
      setTimeout(tick, 5);
    };
    tick();
  });
}
const exited = (child: ChildProcess): Promise<number | null> => new Promise((r) => child.on('exit', (code, signal) => r(code ?? (signal ? -1 : null))));

describe('strata train', () => {
  it('MLP on mnist: the loss goes down; metrics.jsonl and --json keep their contracts', () => {
    const dir = fresh('mlp');
    const r = strata(['train', MLP, '--task', 'mnist', '--steps', '60', '--eval-every', '30', '--batch', '32', '--lr', '0.001', '--dir', dir, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(Object.keys(r.json).sort()).toEqual(['dir', 'eval', 'step']);
    expect(r.json.step).toBe(60);
    expect(r.json.dir).toBe(dir);
    expect(r.json.eval.accuracy).toBeGreaterThan(0.6);
    const lines = metrics(dir);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['accuracy', 'loss', 'lr', 'split', 'step', 'steps_per_s', 'time_s']);
      expect(l.lr).toBeCloseTo(0.001, 9);
    }
    expect(lines.filter((l) => l.split === 'eval').map((l) => l.step)).toEqual([30, 60]);
    const losses = trainLoss(dir);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    // the weights file strata run reads: the model's own keys
    const w = readNpz(readFileSync(join(dir, 'weights.npz')));
    expect([...w.keys()]).toEqual(['Serial[1]/Dense/kernel', 'Serial[1]/Dense/bias', 'Serial[4]/Dense/kernel', 'Serial[4]/Dense/bias', 'Serial[6]/Dense/kernel', 'Serial[6]/Dense/bias']);
    expect(r.err).toMatch(/step 60\/60 \[=+>\] 100% loss [\d.]+ acc [\d.]+% lr 1\.0e-3 [\d.]+ steps\/s ETA/);
  });

  it('a small CNN on mnist and a TransformerLM on duplicate: the loss goes down', () => {
    const cnn = fresh('cnn');
    const a = strata(['train', join(repoRoot, 'assets/examples/small-cnn.strata.json'), '--task', 'mnist', '--steps', '20', '--eval-every', '20', '--batch', '16', '--lr', '0.002', '--dir', cnn]);
    expect(a.code, a.err).toBe(0);
    const cl = trainLoss(cnn);
    expect(cl[cl.length - 1]).toBeLessThan(cl[0]);
    const lm = fresh('lm');
    const model = 'tl.Serial(trax.models.TransformerLM(vocab_size=16, d_model=32, d_ff=64, n_layers=1, n_heads=2, max_len=32, dropout=0.0), tl.LogSoftmax())';
    const b = strata(['train', model, '--task', 'duplicate', '--length', '16', '--vocab', '16', '--steps', '60', '--eval-every', '30', '--batch', '8', '--lr', '0.005', '--dir', lm, '--json']);
    expect(b.code, b.err).toBe(0);
    const ll = trainLoss(lm);
    expect(ll[ll.length - 1]).toBeLessThan(ll[0] * 0.9);
  });

  it('killed with SIGKILL and resumed, it reaches the weights of a run that never stopped', async () => {
    const args = (dir: string): string[] => ['train', MLP, '--task', 'mnist', '--steps', '300', '--eval-every', '100', '--checkpoint-every', '25', '--batch', '16', '--seed', '3', '--dir', dir];
    const whole = fresh('whole');
    expect(strata(args(whole)).code).toBe(0);

    const killed = fresh('killed');
    const child = spawn(process.execPath, [cli, ...args(killed)], { stdio: 'ignore' });
    const done = exited(child);
    await waitFor(() => existsSync(join(killed, 'checkpoints', 'step-00000050')), child);
    child.kill('SIGKILL');
    await done;
    const before = readdirSync(join(killed, 'checkpoints')).filter((d) => d.startsWith('step-'));
    expect(before.length).toBeGreaterThan(0);
    expect(before).not.toContain('step-00000300');
    const r = strata([...args(killed), '--resume']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/resuming .* from step \d+/);
    expect(readFileSync(join(killed, 'weights.npz')).equals(readFileSync(join(whole, 'weights.npz')))).toBe(true);
    // the metrics of the killed part are rewritten, not repeated
    const steps = metrics(killed).filter((l) => l.split === 'train').map((l) => l.step);
    expect(steps).toEqual(metrics(whole).filter((l) => l.split === 'train').map((l) => l.step));
  });

  it('Ctrl-C stops after writing a checkpoint; --resume finishes the run', async () => {
    const dir = fresh('sigint');
    const args = ['train', MLP, '--task', 'mnist', '--steps', '100000', '--eval-every', '100000', '--batch', '16', '--dir', dir, '--json'];
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += String(d); });
    const done = exited(child);
    await waitFor(() => existsSync(join(dir, 'metrics.jsonl')), child);
    child.kill('SIGINT');
    expect(await done).toBe(0);
    const result = JSON.parse(out) as { step: number };
    expect(result.step).toBeGreaterThan(0);
    expect(readdirSync(join(dir, 'checkpoints'))).toContain(`step-${String(result.step).padStart(8, '0')}`);
    const r = strata(['train', MLP, '--task', 'mnist', '--steps', String(result.step + 10), '--eval-every', '100000', '--batch', '16', '--dir', dir, '--resume', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.json.step).toBe(result.step + 10);
  });

  it('bad input gets a clear message, never a crash', () => {
    const dir = fresh('bad');
    const cases: [string[], RegExp][] = [
      [['--task', 'imagenet'], /unknown task|imagenet/],
      [['--task', 'mnist', '--optimizer', 'lion'], /--optimizer: choose one of sgd, momentum, adam, adafactor, rmsprop/],
      [['--task', 'mnist', '--lr', '-1'], /learning_rate/],
      [['--task', 'mnist', '--loss', 'hinge'], /unknown loss 'hinge'/],
      [['--task', 'mnist', '--optimizer', 'sgd', '--weight-decay', '0.1'], /sgd has no hyper-parameter 'weight_decay_rate'/],
      [['--task', 'mnist', '--clip-grad-norm', '0'], /clip_grad_norm/],
      [['--task', 'copy'], /the model's input 0 is float32\[B,28,28,1\], but the task copy feeds int32\[32,32\]/],
      [['--task', 'text:/no/such/file.txt'], /no such file/],
    ];
    for (const [extra, msg] of cases) {
      const r = strata(['train', MLP, '--steps', '2', '--dir', dir, ...extra]);
      expect(r.code, r.err).toBeGreaterThan(0);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/at .*\.js:\d+/);
    }
    const noLogSoftmax = strata(['train', 'tl.Serial(tl.Flatten(), tl.Dense(10))', '--task', 'mnist', '--steps', '2', '--dir', dir]);
    expect(noLogSoftmax.code).toBe(2);
    expect(noLogSoftmax.err).toMatch(/CrossEntropyLoss reads log-probabilities, but the model does not end in them: it ends in Dense/);
    // an existing run is not overwritten without --resume
    const run = fresh('exists');
    expect(strata(['train', MLP, '--task', 'mnist', '--steps', '2', '--eval-every', '2', '--dir', run]).code).toBe(0);
    const again = strata(['train', MLP, '--task', 'mnist', '--steps', '2', '--dir', run]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a training run .* pass --resume/);
    // a resume with another configuration is refused
    const other = strata(['train', MLP, '--task', 'mnist', '--steps', '4', '--seed', '9', '--dir', run, '--resume']);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/cannot resume .* another model, task, loss, optimizer, schedule, seed or batch size/);
  });
});
