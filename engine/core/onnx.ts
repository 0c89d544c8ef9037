/**
 * A plain, serializable ONNX graph (no protobuf): what lowering builds, what
 * the golden text form prints and what the writer encodes. IR version and
 * opset are pinned in one place.
 */
import type { DType, ShapeDtype } from './shape';

export const IR_VERSION = 10;
export const OPSET = 21;
/** the domain of Strata's model-local functions */
export const STRATA_DOMAIN = 'ai.strata';

/** Element types a graph may hold: the stack's dtypes plus int64 (shapes and axes). */
export type ElemType = DType | 'int64';

export interface TensorValue {
  dtype: ElemType;
  dims: number[];
  /** row-major values; Float32Array for floats, Int32Array for int32/bool/int8/uint8, BigInt64Array for int64 */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;
}

export type Attr =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string }
  | { tensor: TensorValue }
  | { graph: Graph };

/**
 * Every standard (ai.onnx) op that a lowering emits. The Emitter's `op` takes
 * only these, so a new op in a lowering must be added here first; the
 * autodiff table (engine/autodiff/rules.ts) is typed over this union, so
 * adding one without a VJP rule (or a NON_DIFFERENTIABLE entry) does not
 * compile.
 */
export const ONNX_OPS = [
  'Abs', 'Add', 'And', 'ArgMax', 'AveragePool', 'Cast', 'Ceil', 'Clip', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'Cos',
  'CumSum', 'Div', 'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'Floor', 'Gather', 'GatherElements', 'Greater', 'GreaterOrEqual',
  'Identity', 'If', 'LeakyRelu', 'Less', 'LessOrEqual', 'Log', 'MatMul', 'Max', 'MaxPool', 'Min', 'Mul', 'Neg', 'Not', 'Pad',
  'Pow', 'Range', 'Reciprocal', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSum', 'Relu', 'Reshape', 'Scan', 'ScatterElements',
  'Sigmoid', 'Sin', 'Slice', 'Softmax', 'Softplus', 'Split', 'Sqrt', 'Squeeze', 'Sub', 'Tanh', 'TopK', 'Transpose', 'Unsqueeze', 'Where',
] as const;
export type OpType = (typeof ONNX_OPS)[number];

export interface OnnxNode {
  /** an OpType, or (with `domain`) a model-local function's name */
  op: string;
  domain?: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
  name?: string;
}

export interface ValueInfo {
  name: string;
  dtype: ElemType;
  /** numbers, or symbols (dim_param) */
  shape: (number | string)[];
}

export interface Initializer {
  name: string;
  value: TensorValue;
}

export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: OnnxNode[];
  initializers: Initializer[];
}

export interface FunctionDef {
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  nodes: OnnxNode[];
  /** a line saying what it computes, kept as the function's doc string */
  doc?: string;
}

export interface Model {
  graph: Graph;
  functions: FunctionDef[];
  producer: string;
  /** metadata_props: the document it was lowered from, mode, seed */
  metadata: Record<string, string>;
}

/** TensorProto.DataType numbers. */
export const ONNX_DTYPE: Record<ElemType, number> = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16,
};

// ---------------------------------------------------------------- what a layer's lowering sees

/** What a leaf layer's `lower` knows about the call it lowers (concrete shapes, from the trace). */
export interface LowerSig {
  readonly inputs: readonly ShapeDtype[];
  readonly outputs: readonly ShapeDtype[];
}

/**
 * Builds ONNX nodes for one layer (implemented by engine/onnx). Value names
 * are strings; every name an Emitter makes is unique in the graph and
 * derived from the layer's tree path, so a probe can name it.
 */
export interface Emitter {
  /** the run mode (it overrides the layers' own `mode` parameters) */
  readonly mode: 'train' | 'eval' | 'predict';
  /** the run's seed (dropout masks, LSH rotations) */
  readonly seed: number;
  /** the layer's tree path (`Serial[2]/Dense`): names its nodes and salts its random streams */
  readonly path: string;
  /**
   * Lowering for a GPU provider: only ops that provider places on the GPU
   * (notes/gpu.md), so no control flow (Scan, If: they run on the CPU) —
   * combinators unroll instead.
   */
  readonly gpu: boolean;
  /**
   * No control flow (Scan, If): combinators unroll over the static sizes.
   * True with `gpu`, and for training graphs (LowerOptions.unroll), which
   * are differentiated through the unrolled ops.
   */
  readonly unroll: boolean;
  /** a node; returns its `nOut` fresh output names */
  op(op: OpType, inputs: string[], attrs?: Record<string, Attr>, nOut?: number): string[];
  /** a node with one output */
  op1(op: OpType, inputs: string[], attrs?: Record<string, Attr>): string;
  /** a float32 constant (scalar when dims are omitted and one value is given); deduplicated */
  f32(values: number | readonly number[], dims?: readonly number[]): string;
  /** an int64 constant (shapes, axes, indices); deduplicated */
  i64(values: number | readonly number[], dims?: readonly number[]): string;
  /** an int32 constant; deduplicated */
  i32(values: number | readonly number[], dims?: readonly number[]): string;
  /** any constant tensor */
  constant(value: TensorValue): string;
  /** this layer's weight `name`, as declared by its `weights()` */
  weight(name: string): string;
  /** this layer's state `name`, as declared by its `state()` */
  state(name: string): string;
  /** the new value of this layer's state `name` after this call (an output where the run carries state) */
  setState(name: string, value: string): void;
  /**
   * Marks a value as a constant for differentiation (JAX's stop_gradient): no
   * gradient flows back through it. Returns the value itself; the graph is
   * unchanged (engine/autodiff reads the marks from the lowering).
   */
  stopGradient(value: string): string;
  /** whether values given to setState leave the graph (the run carries state): a layer can skip computing them otherwise */
  readonly carriesState: boolean;
  /** an empty optional input ('' in ONNX) */
  readonly none: string;
  /**
   * In a training step graph: an int32 scalar graph input that changes every
   * step (random streams mix it into their keys, so dropout masks differ from
   * step to step); undefined otherwise (streams depend on the seed alone).
   */
  rngStep(): string | undefined;
  /** the dtype of a stack value (a layer's input or output), when known */
  dtypeOf(value: string): DType | undefined;
  /**
   * Emits `build` as the model-local function `ai.strata.<name>` (one per
   * distinct `key`) and calls it, unless functions are inlined (`keep`: a
   * function even then — one whose backward engine/autodiff takes from a
   * registered VJP, as rematerialization does).
   */
  fn(name: string, key: string, inputs: string[], nOut: number, build: (e: Emitter, inputs: string[]) => string[], doc?: string, opts?: { keep?: boolean }): string[];
  /**
   * Training that recomputes instead of storing (LowerOptions.remat):
   * reversible layers lower their residual functions as kept `Remat`
   * functions, whose backward recomputes them from their inputs.
   */
  readonly remat: boolean;
  /** a subgraph (the body of Scan, Loop or If) with the given formal inputs */
  subgraph(name: string, inputs: ValueInfo[], build: (e: Emitter, inputs: string[]) => string[], outputs: (names: string[]) => ValueInfo[]): Graph;
}
