/** The `rnn` module of the spec. */
import { family, type SpecNote } from './family';

export const rnnLayers = family('rnn', {});

/** Spec entries of this module that are not catalog kinds, and why. */
export const rnnNotes: Record<string, SpecNote> = {};
