/** Trax Python code <-> document. */
export { CodeError, codeToDocument, codeToTree, inputFromCode, kindOfName } from './parse';
export { documentToCode, treeToCode, pyFloat, pyParam, pyString } from './print';
export { canonicalTree } from './canonical';
