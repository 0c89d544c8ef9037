/** The `normalization` module of the spec. */
import { family, type SpecNote } from './family';

export const normalizationLayers = family('normalization', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const normalizationNotes: Record<string, SpecNote> = {};
