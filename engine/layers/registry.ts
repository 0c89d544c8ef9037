/**
 * The catalog: every layer kind, from one family file per spec module.
 * Everything (trace, code, inspector, lowering) dispatches through here.
 */
import type { LayerDef, SpecModule } from './def';
import type { SpecNote } from './family';
import { accelerationLayers, accelerationNotes } from './acceleration';
import { activation_fnsLayers, activation_fnsNotes } from './activation_fns';
import { attentionLayers, attentionNotes } from './attention';
import { baseLayers, baseNotes } from './base';
import { combinatorsLayers, combinatorsNotes } from './combinators';
import { convolutionLayers, convolutionNotes } from './convolution';
import { coreLayers, coreNotes } from './core';
import { initializersLayers, initializersNotes } from './initializers';
import { metricsLayers, metricsNotes } from './metrics';
import { normalizationLayers, normalizationNotes } from './normalization';
import { poolingLayers, poolingNotes } from './pooling';
import { reversibleLayers, reversibleNotes } from './reversible';
import { rnnLayers, rnnNotes } from './rnn';
import { efficient_attentionLayers, efficient_attentionNotes } from './efficient_attention';
import { position_encodingsLayers, position_encodingsNotes } from './position_encodings';
import { modelsLayers, modelsNotes } from './models';

export const CATALOG = {
  ...accelerationLayers,
  ...activation_fnsLayers,
  ...attentionLayers,
  ...baseLayers,
  ...combinatorsLayers,
  ...convolutionLayers,
  ...coreLayers,
  ...initializersLayers,
  ...metricsLayers,
  ...normalizationLayers,
  ...poolingLayers,
  ...reversibleLayers,
  ...rnnLayers,
  ...efficient_attentionLayers,
  ...position_encodingsLayers,
  ...modelsLayers,
} satisfies Record<string, LayerDef>;

export type LayerKind = keyof typeof CATALOG;

/** Spec entries that are not catalog kinds (functions, helpers, not applicable), by module. */
export const SPEC_NOTES: Record<SpecModule, Record<string, SpecNote>> = {
  acceleration: accelerationNotes,
  activation_fns: activation_fnsNotes,
  attention: attentionNotes,
  base: baseNotes,
  combinators: combinatorsNotes,
  convolution: convolutionNotes,
  core: coreNotes,
  initializers: initializersNotes,
  metrics: metricsNotes,
  normalization: normalizationNotes,
  pooling: poolingNotes,
  reversible: reversibleNotes,
  rnn: rnnNotes,
  efficient_attention: efficient_attentionNotes,
  position_encodings: position_encodingsNotes,
  models: modelsNotes,
};

const table: Record<string, LayerDef> = CATALOG;

export function lookupKind(kind: string): LayerDef | undefined {
  return Object.prototype.hasOwnProperty.call(table, kind) ? table[kind] : undefined;
}

export function allKinds(): LayerDef[] {
  return Object.values(table);
}
