/**
 * The host's file side: examples, documents on disk, the recent-files list
 * and the recovery file. Node's fs only — no onnxruntime — so the Electron
 * main process can serve these itself (next to its file dialogs) while the
 * numerics run in a utility process.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { HostApi } from './api';

export interface FileHostOptions {
  /** the folder of `*.strata.json` examples (assets/examples) */
  examplesDir: string;
  /** where the recent-files list and the recovery file live (created on first write) */
  dataDir: string;
}

/**
 * The file side of the Host API. Asking the user for a path is the
 * transport's job (a file dialog) or the renderer's: here a path is given.
 * `saveRecovery('')` removes the recovery file (saved or closed).
 */
export type FileHost = Pick<HostApi, 'listExamples' | 'readExample' | 'openFile' | 'saveFile' | 'recentFiles' | 'saveRecovery' | 'readRecovery'>;

const EXAMPLE_SUFFIX = '.strata.json';
const RECENT_LIMIT = 10;

/** A failure the user should read (a missing file, a bad name): its message crosses the transport as is. */
export class HostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostError';
  }
}

/**
 * Writes through a temporary file in the same folder and renames it into place: a crash never leaves half a file.
 * `durable` also flushes the file to the disk before the rename (checkpoints: a power cut keeps the old or the new).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[], durable = false): number {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  let n = 0;
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunks) { writeSync(fd, c); n += c.byteLength; }
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return n;
}

/** A file-name-safe form of the document's name (`MLP for MNIST` → `mlp-for-mnist`), else `model`. */
export function docFileName(doc: unknown): string {
  try {
    const v = (typeof doc === 'string' ? JSON.parse(doc) : doc) as { name?: unknown } | null;
    if (v && typeof v.name === 'string' && v.name) return v.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'model';
  } catch { /* the default name */ }
  return 'model';
}

/**
 * A new training run's folder when the request names none:
 * `<dataDir>/runs/<yyyymmdd-hhmmss>-<model name>` (with `-2`, `-3`, … when
 * that exists already: two runs started in one second).
 */
export function newRunDir(dataDir: string, doc: unknown, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = join(resolve(dataDir), 'runs', `${stamp}-${docFileName(doc)}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

function fsMessage(e: unknown, what: string, path: string): HostError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
  return new HostError(`cannot ${what} ${path}: ${why}`);
}

/** An example's title: the document's `name`, else its file name. */
function exampleTitle(text: string, name: string): string {
  try {
    const v = JSON.parse(text) as { name?: unknown };
    if (typeof v.name === 'string' && v.name) return v.name;
  } catch { /* a broken example still lists, under its file name */ }
  return name;
}

export function createFileHost(opts: FileHostOptions): FileHost {
  const examplesDir = resolve(opts.examplesDir);
  const dataDir = resolve(opts.dataDir);
  const recentPath = join(dataDir, 'recent.json');
  const recoveryPath = join(dataDir, 'recovery.strata.json');

  const readRecent = (): string[] => {
    try {
      const v = JSON.parse(readFileSync(recentPath, 'utf8')) as unknown;
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, RECENT_LIMIT) : [];
    } catch {
      return [];
    }
  };
  const remember = (path: string): void => {
    const list = [path, ...readRecent().filter((p) => p !== path)].slice(0, RECENT_LIMIT);
    try {
      writeFileAtomic(recentPath, JSON.stringify(list, null, 2) + '\n');
    } catch { /* the list is a convenience: never fail an open or save over it */ }
  };

  return {
    async listExamples() {
      let files: string[];
      try {
        files = readdirSync(examplesDir).filter((f) => f.endsWith(EXAMPLE_SUFFIX)).sort();
      } catch {
        return [];
      }
      return files.map((f) => {
        const name = f.slice(0, -EXAMPLE_SUFFIX.length);
        let text = '';
        try { text = readFileSync(join(examplesDir, f), 'utf8'); } catch { /* listed by name */ }
        return { name, title: exampleTitle(text, name) };
      });
    },

    async readExample(name) {
      // a name, never a path: nothing outside the examples folder is reachable through it
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) throw new HostError(`no example named ${JSON.stringify(name)}`);
      const path = join(examplesDir, `${name}${EXAMPLE_SUFFIX}`);
      try {
        return { name, text: readFileSync(path, 'utf8') };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new HostError(`no example named ${JSON.stringify(name)}`);
        throw fsMessage(e, 'read example', path);
      }
    },

    async openFile(path) {
      if (!path) return null;
      const abs = resolve(path);
      let text: string;
      try {
        text = readFileSync(abs, 'utf8');
      } catch (e) {
        throw fsMessage(e, 'open', abs);
      }
      remember(abs);
      return { path: abs, text };
    },

    async saveFile(text, path) {
      if (!path) return null;
      const abs = resolve(path);
      try {
        writeFileAtomic(abs, text);
      } catch (e) {
        throw fsMessage(e, 'save', abs);
      }
      remember(abs);
      return { path: abs };
    },

    async recentFiles() {
      return readRecent();
    },

    async saveRecovery(text) {
      if (text === '') {
        rmSync(recoveryPath, { force: true });
        return;
      }
      writeFileAtomic(recoveryPath, text);
    },

    async readRecovery() {
      try {
        return readFileSync(recoveryPath, 'utf8');
      } catch {
        return null;
      }
    },
  };
}
