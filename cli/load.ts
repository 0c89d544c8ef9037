/** Reads MODEL: a .strata.json document, a .py file with one Trax expression, or the expression itself. */
import { existsSync } from 'node:fs';
import type { ModelError } from '../engine/core/errors';
import { DocumentError, type StrataDocument, parseDocumentText } from '../engine/document/schema';
import { CodeError, codeToDocument } from '../engine/tracecode/parse';

import { UsageError } from './args';

export { UsageError };

/** A model that could not be read as a model (syntax, malformed document): reported like a model error. */
export class ModelLoadError extends Error {
  constructor(readonly error: ModelError) {
    super(error.message);
  }
}

export interface LoadedModel {
  doc: StrataDocument;
  /** read from a .strata.json (so its input signature is meaningful even when empty) */
  fromDocument: boolean;
}

export function loadModel(arg: string, readFile: (path: string) => string): LoadedModel {
  const looksLikeFile = /\.(json|py)$/i.test(arg) && !/[()\s]/.test(arg);
  if (looksLikeFile || (existsSync(arg) && !/[()]/.test(arg))) {
    let text: string;
    try {
      text = readFile(arg);
    } catch (e) {
      throw new UsageError(`cannot read ${arg}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    if (/\.json$/i.test(arg)) {
      try {
        return { doc: parseDocumentText(text), fromDocument: true };
      } catch (e) {
        if (e instanceof DocumentError) {
          throw new ModelLoadError({ code: e.code, path: '', kind: '', message: `${arg}: ${e.message}` });
        }
        throw e;
      }
    }
    return { doc: fromCode(text, arg), fromDocument: false };
  }
  return { doc: fromCode(arg, '<expression>'), fromDocument: false };
}

function fromCode(src: string, where: string): StrataDocument {
  try {
    return codeToDocument(src);
  } catch (e) {
    if (e instanceof CodeError) {
      const ce: CodeError = e;
      throw new ModelLoadError({ code: ce.code, path: '', kind: ce.kind ?? '', message: `${where}:${ce.line}:${ce.col}: ${ce.message}` });
    }
    throw e;
  }
}
