/** The `pooling` module of the spec. */
import { family, type SpecNote } from './family';

export const poolingLayers = family('pooling', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const poolingNotes: Record<string, SpecNote> = {};
