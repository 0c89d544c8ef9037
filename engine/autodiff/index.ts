/** Reverse-mode autodiff over lowered ONNX models (see README.md). */
export { addGradients, registerFunctionVjp, unregisterFunctionVjp, type GradientOptions, type Gradients } from './grad';
export { graphNames, inlineFunctions } from './inline';
export { toFloat64 } from './float64';
export { NON_DIFFERENTIABLE, RULE_COUNT, VJP, type DiffOp, type NonDiffOp, type VjpContext, type VjpRule } from './rules';
export { AutodiffError, Shapes } from './shapes';
// registers the Remat function VJP (rematerialization: reversible layers recompute in the backward pass)
export { REMAT, rematVjp } from './remat';
