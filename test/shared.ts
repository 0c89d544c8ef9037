/** Paths to ../shared (spec, conformance cases), beside the repository as CI lays it out. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDir = process.env.STRATA_SHARED ?? join(repoRoot, '..', 'shared');

export function sharedPath(rel: string): string {
  const p = join(sharedDir, rel);
  if (!existsSync(p)) throw new Error(`${p} not found: the shared folder must lie beside the repository (or set STRATA_SHARED)`);
  return p;
}
