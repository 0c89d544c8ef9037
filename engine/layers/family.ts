import type { LayerDef, SpecModule } from './def';

export type FamilyEntry = Omit<LayerDef, 'kind' | 'module'>;

/** Builds one family's entries, taking each kind from its key (so a kind is written once). */
export function family<K extends string>(module: SpecModule, defs: Record<K, FamilyEntry>): Record<K, LayerDef> {
  const out = {} as Record<K, LayerDef>;
  for (const kind of Object.keys(defs) as K[]) out[kind] = { ...defs[kind], kind, module };
  return out;
}

/** A spec entry that is not a catalog kind, and why (for COVERAGE.md). */
export interface SpecNote {
  status: 'not_applicable' | 'function' | 'internal' | 'initializer' | 'unsupported';
  reason: string;
}
