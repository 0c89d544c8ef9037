/** The `initializers` module of the spec. */
import { family, type SpecNote } from './family';

export const initializersLayers = family('initializers', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const initializersNotes: Record<string, SpecNote> = {};
