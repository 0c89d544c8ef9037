/** The `reversible` module of the spec. */
import { family, type SpecNote } from './family';

export const reversibleLayers = family('reversible', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const reversibleNotes: Record<string, SpecNote> = {};
