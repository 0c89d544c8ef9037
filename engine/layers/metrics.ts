/** The `metrics` module of the spec. */
import { family, type SpecNote } from './family';

export const metricsLayers = family('metrics', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const metricsNotes: Record<string, SpecNote> = {};
