/** The `models` module of the spec. */
import { family, type SpecNote } from './family';

export const modelsLayers = family('models', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const modelsNotes: Record<string, SpecNote> = {};
