/**
 * What a layer kind is: one declarative object (see engine/layers/README.md).
 *
 * A LayerDef gives the Python signature (parameters, layer-valued arguments
 * and `*layers`, in spec order with spec defaults), how n_in/n_out follow from
 * parameters and children, the output signature from the input signature,
 * and the weights and state it creates. Combinators receive an InferCtx that
 * runs their children with the one stack discipline implemented in
 * engine/document/trace.ts. Layer-building functions and models give an
 * `expand` instead: the subtree Trax would build.
 */
import type { DType, ShapeDtype } from '../core/shape';
import type { Emitter, LowerSig } from '../core/onnx';
import type { Dim } from '../core/dim';
import { LayerError } from '../core/errors';

export type Mode = 'train' | 'eval' | 'predict';
export const MODES: readonly Mode[] = ['train', 'eval', 'predict'];

/** The spec modules (one catalog file each) plus `models` (trax.models). */
export const MODULES = [
  'acceleration', 'activation_fns', 'attention', 'base', 'combinators', 'convolution', 'core',
  'initializers', 'metrics', 'normalization', 'pooling', 'reversible', 'rnn',
  'efficient_attention', 'position_encodings', 'models',
] as const;
export type SpecModule = (typeof MODULES)[number];

// ---------------------------------------------------------------- parameter values

/** A Trax initializer call, e.g. `tl.initializers.GlorotNormalInitializer(scale=2.0)`. */
export interface InitCall {
  $init: string;
  args?: Record<string, PyValue>;
}
/** A Python lambda kept as source (Fn's function, a custom initializer). */
export interface LambdaValue {
  $lambda: string;
}
/** A parameter value as stored in a document (JSON). */
export type PyValue = null | boolean | number | string | PyValue[] | InitCall | LambdaValue;

export function isInitCall(v: unknown): v is InitCall {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as InitCall).$init === 'string';
}
export function isLambda(v: unknown): v is LambdaValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as LambdaValue).$lambda === 'string';
}

// ---------------------------------------------------------------- parameter schema

export type ParamType =
  | { type: 'int'; min?: number; max?: number }
  | { type: 'float'; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }
  | { type: 'bool' }
  | { type: 'str'; choices?: readonly string[] }
  /** a tuple/list of ints: pool_size=(2, 2), indices=[0, 1, 1] */
  | { type: 'ints'; style: 'tuple' | 'list'; min?: number; minLength?: number; maxLength?: number }
  /** an int or a tuple of ints: kernel_size=3 or (3, 3) */
  | { type: 'int_or_ints'; min?: number }
  /** a tuple/list of floats or ints */
  | { type: 'numbers'; style: 'tuple' | 'list' }
  /** a tuple/list of strings: dimension_numbers=('NHWC', 'HWIO', 'NHWC') */
  | { type: 'strs'; style: 'tuple' | 'list' }
  | { type: 'dtype' }
  | { type: 'initializer' }
  | { type: 'lambda' }
  /** a layer constructor passed uninstantiated: ff_activation=tl.Relu */
  | { type: 'layer_class'; choices?: readonly string[] }
  /** a list of layer constructors or one: attention_type=tl.SelfAttention */
  | { type: 'layer_classes' }
  /** free-form Python value kept verbatim (rarely used) */
  | { type: 'any' };

export const REQUIRED: unique symbol = Symbol('required');

export type ParamSpec = ParamType & {
  readonly arg: 'param';
  readonly name: string;
  readonly default: PyValue | typeof REQUIRED;
  readonly nullable?: boolean;
  readonly doc?: string;
  /** keyword-only in Python (after *args) */
  readonly kwOnly?: boolean;
};
/** A layer-valued argument: Scan's `layer`, Residual's `shortcut`, Cond's `cond`/`true`/`false`. */
export interface SlotSpec {
  readonly arg: 'slot';
  readonly name: string;
  /** optional slots may be None / absent */
  readonly optional?: boolean;
  /** layer used when the argument is absent (Bidirectional's merge_layer=Concatenate()) */
  readonly defaultKind?: string;
  readonly kwOnly?: boolean;
  readonly doc?: string;
}
/** `*layers`: the node's children. */
export interface VariadicSpec {
  readonly arg: 'layers';
  readonly name: string;
  /**
   * What a Python list among the layers means: 'flatten' (Serial deep-flattens
   * nested lists into its sublayers) or 'serial' (a lane of Parallel/Branch:
   * the list is one Serial).
   */
  readonly lists?: 'flatten' | 'serial';
  /** `*layers` (star) or one list argument `layers` (SerialWithSideOutputs(layers, …)) */
  readonly form?: 'star' | 'list';
  readonly doc?: string;
}
export type ArgSpec = ParamSpec | SlotSpec | VariadicSpec;

/** Resolved parameter values (defaults filled in), read by the rules. */
export type Params = Readonly<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Arity {
  readonly nIn: number;
  readonly nOut: number;
}

/** The arities of a node's children, for arity rules of combinators. */
export interface ChildArities {
  readonly children: readonly Arity[];
  readonly slots: Readonly<Record<string, Arity | null>>;
}

// ---------------------------------------------------------------- weights

export type Initializer =
  | InitCall
  | LambdaValue
  /** constant fill: LayerNorm's scale (1) and bias (0) */
  | { fill: number }
  /** a deterministic table the layer defines (PositionalEncoding's sin/cos) */
  | { table: string }
  /** another initializer plus a constant (LSTMCell's bias: Normal(1e-6) + forget_bias) */
  | { base: Initializer; offset: number };

export interface WeightDecl {
  readonly name: string;
  readonly shape: readonly Dim[];
  readonly dtype: DType;
  readonly init: Initializer;
}

// ---------------------------------------------------------------- inference

/** Runs a combinator's children; implemented once by the trace. */
export interface InferCtx {
  readonly nChildren: number;
  childArity(i: number): Arity;
  slotArity(name: string): Arity | null;
  /** runs child i on exactly its n_in inputs */
  child(i: number, inputs: readonly ShapeDtype[]): ShapeDtype[];
  /** runs slot `name` on exactly its n_in inputs */
  slot(name: string, inputs: readonly ShapeDtype[]): ShapeDtype[];
  /**
   * Serial's discipline over children [from, to): each pops its n_in items
   * off `stack` and pushes its n_out; the stack at every edge is recorded.
   * Returns the whole stack afterwards.
   */
  series(stack: readonly ShapeDtype[], from?: number, to?: number): ShapeDtype[];
}

export interface LayerDef {
  readonly kind: string;
  readonly module: SpecModule;
  /** one line: what it computes (the formula where short) */
  readonly summary: string;
  /** the Python signature in spec order */
  readonly args: readonly ArgSpec[];
  /** the Python name when it differs from `trax.layers.<kind>` (`trax.models.TransformerLM`) */
  readonly pyName?: string;
  /** a Trax ReversibleLayer (allowed inside ReversibleSerial) */
  readonly reversible?: boolean;
  /** not a spec entry: a helper kind that expansions use (Flip); hidden from the palette */
  readonly internal?: boolean;
  /** modes that change what it computes, and how */
  readonly modes?: Partial<Record<Mode, string>>;
  /** construction-time checks on parameters and children (Trax raises at __init__) */
  check?(p: Params, kids: ChildArities): void;
  /** n_in / n_out; absent for macros (taken from the expansion) */
  arity?(p: Params, kids: ChildArities): Arity;
  /** output signature from exactly n_in inputs; absent for macros */
  infer?(inputs: readonly ShapeDtype[], p: Params, ctx: InferCtx): ShapeDtype[];
  weights?(inputs: readonly ShapeDtype[], p: Params): WeightDecl[];
  /** non-trainable state (running statistics, predict-mode carries and caches); may depend on the outputs */
  state?(inputs: readonly ShapeDtype[], p: Params, outputs: readonly ShapeDtype[]): WeightDecl[];
  /**
   * ONNX lowering. Leaves emit nodes with `e`; combinators wire their
   * children's values with `kids` (the same stack discipline as inference).
   * Returns exactly n_out value names.
   */
  lower?(e: Emitter, inputs: string[], p: Params, sig: LowerSig, kids: LowerKids): string[];
  /** macros: lower the expansion as one model-local function (readable in Netron) */
  lowerAsFunction?: boolean;
  /** layer-building functions and models: the tree Trax builds */
  expand?(p: Params, slots: Readonly<Record<string, ExpandNode | null>>, children: readonly ExpandNode[], kids: ChildArities): ExpandNode;
}

/** Lowers a combinator's children (implemented by engine/onnx's lowering driver). */
export interface LowerKids {
  readonly nChildren: number;
  childArity(i: number): Arity;
  slotArity(name: string): Arity | null;
  child(i: number, inputs: string[]): string[];
  slot(name: string, inputs: string[]): string[];
  series(stack: string[], from?: number, to?: number): string[];
  /** lowers the slot with another emitter (inside a subgraph body: Scan, If) */
  slotIn(e: Emitter, name: string, inputs: string[]): string[];
  /** lowers all children in series with another emitter (inside a function body) */
  seriesIn(e: Emitter, stack: string[]): string[];
  /** the trace's shapes at the slot's inputs/outputs */
  slotSig(name: string): LowerSig;
}

/** A node produced by `expand` (ids are assigned by the document layer). */
export interface ExpandNode {
  kind: string;
  params?: Record<string, PyValue>;
  children?: ExpandNode[];
  slots?: Record<string, ExpandNode | null>;
  /** weight sharing inside an expansion: the same `shareKey` on two nodes means one set of weights */
  shareKey?: string;
}

// ---------------------------------------------------------------- helpers for family files

type Opt<T> = { nullable?: boolean; doc?: string; kwOnly?: boolean } & T;

/** Parameter constructors; `d` is the spec default (`REQUIRED` for none). */
export const P = {
  int: (name: string, d: number | null | typeof REQUIRED, o: Opt<{ min?: number; max?: number }> = {}): ParamSpec =>
    ({ arg: 'param', type: 'int', name, default: d, ...o }),
  float: (name: string, d: number | null | typeof REQUIRED, o: Opt<{ min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }> = {}): ParamSpec =>
    ({ arg: 'param', type: 'float', name, default: d, ...o }),
  bool: (name: string, d: boolean | typeof REQUIRED, o: Opt<object> = {}): ParamSpec =>
    ({ arg: 'param', type: 'bool', name, default: d, ...o }),
  str: (name: string, d: string | null | typeof REQUIRED, o: Opt<{ choices?: readonly string[] }> = {}): ParamSpec =>
    ({ arg: 'param', type: 'str', name, default: d, ...o }),
  ints: (name: string, d: number[] | null | typeof REQUIRED, o: Opt<{ style?: 'tuple' | 'list'; min?: number; minLength?: number; maxLength?: number }> = {}): ParamSpec =>
    ({ arg: 'param', type: 'ints', style: o.style ?? 'tuple', name, default: d, ...o }),
  intOrInts: (name: string, d: number | number[] | null | typeof REQUIRED, o: Opt<{ min?: number }> = {}): ParamSpec =>
    ({ arg: 'param', type: 'int_or_ints', name, default: d, ...o }),
  numbers: (name: string, d: number[] | null | typeof REQUIRED, o: Opt<{ style?: 'tuple' | 'list' }> = {}): ParamSpec =>
    ({ arg: 'param', type: 'numbers', style: o.style ?? 'tuple', name, default: d, ...o }),
  strs: (name: string, d: string[] | null | typeof REQUIRED, o: Opt<{ style?: 'tuple' | 'list' }> = {}): ParamSpec =>
    ({ arg: 'param', type: 'strs', style: o.style ?? 'tuple', name, default: d, ...o }),
  dtype: (name: string, d: DType | null | typeof REQUIRED, o: Opt<object> = {}): ParamSpec =>
    ({ arg: 'param', type: 'dtype', name, default: d, ...o }),
  init: (name: string, d: InitCall | null | typeof REQUIRED, o: Opt<object> = {}): ParamSpec =>
    ({ arg: 'param', type: 'initializer', name, default: d, ...o }),
  lambda: (name: string, d: LambdaValue | null | typeof REQUIRED, o: Opt<object> = {}): ParamSpec =>
    ({ arg: 'param', type: 'lambda', name, default: d, ...o }),
  layerClass: (name: string, d: string | null | typeof REQUIRED, o: Opt<{ choices?: readonly string[] }> = {}): ParamSpec =>
    ({ arg: 'param', type: 'layer_class', name, default: d, ...o }),
  layerClasses: (name: string, d: string | string[] | null | typeof REQUIRED, o: Opt<object> = {}): ParamSpec =>
    ({ arg: 'param', type: 'layer_classes', name, default: d, ...o }),
  any: (name: string, d: PyValue | typeof REQUIRED, o: Opt<object> = {}): ParamSpec =>
    ({ arg: 'param', type: 'any', name, default: d, ...o }),
  /** `mode='train'` */
  mode: (d: Mode = 'train'): ParamSpec => ({ arg: 'param', type: 'str', name: 'mode', default: d, choices: MODES }),
  /** `name=None` (a display name) */
  name: (d: string | null = null): ParamSpec => ({ arg: 'param', type: 'str', name: 'name', default: d, nullable: true }),
  slot: (name: string, o: { optional?: boolean; defaultKind?: string; kwOnly?: boolean; doc?: string } = {}): SlotSpec =>
    ({ arg: 'slot', name, ...o }),
  layers: (name = 'layers', lists: 'flatten' | 'serial' = 'flatten', form: 'star' | 'list' = 'star'): VariadicSpec => ({ arg: 'layers', name, lists, form }),
};

/** Initializer call helpers (defaults as the spec gives them). */
export const INIT = {
  glorotUniform: (): InitCall => ({ $init: 'GlorotUniformInitializer' }),
  glorotNormal: (): InitCall => ({ $init: 'GlorotNormalInitializer' }),
  normal: (stddev: number): InitCall => ({ $init: 'RandomNormalInitializer', args: { stddev } }),
  uniform: (lim: number): InitCall => ({ $init: 'RandomUniformInitializer', args: { lim } }),
  scaled: (args: Record<string, PyValue>): InitCall => ({ $init: 'ScaledInitializer', args }),
};

/** A fixed arity (most leaves). */
export function fixed(nIn: number, nOut: number): () => Arity {
  const a = { nIn, nOut };
  return () => a;
}

/** Throws a construction error (Trax raises ValueError at __init__). */
export function construct(message: string, param?: string): never {
  throw new LayerError('construct', message, param ? { param } : {});
}

/** Throws a bad-parameter error naming the parameter. */
export function badParam(param: string, message: string, expected?: string): never {
  throw new LayerError('bad_param', message, { param, expected });
}
