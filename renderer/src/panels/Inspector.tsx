/**
 * The inspector: the selected node's parameters as a form generated from its
 * schema (validated as you type), its stack before and after, weights and
 * parameter count, and its errors. With nothing selected: the model's input
 * signature and totals.
 *
 * A value that reads as a value but breaks the schema (n_units=0, 12.5 for
 * an int) is applied, so the node shows the error on the canvas too; text
 * that is no value at all ('abc' for an int) is not applied: the field shows
 * why and the document keeps its value (restored when the field loses focus).
 */
import { memo, useMemo, useState } from 'react';
import { DTYPES, type DType, type ShapeDtype, SignatureSyntaxError, formatShapeDtype, parseShapeDtype } from '../../../engine/core/shape';
import { displayPath } from '../../../engine/core/errors';
import { type ParamSpec, type PyValue, REQUIRED, isInitCall } from '../../../engine/layers/def';
import { INITIALIZERS } from '../../../engine/layers/initializers';
import { jsonEqual, paramSpecs } from '../../../engine/document/params';
import { collectWeights } from '../../../engine/document/trace';
import { findNode } from '../state/edits';
import { deleteSelection, duplicateSelection, takesLayers, unwrapSelection, wrapKinds, wrapSelection } from './actions';
import { Chips } from './Chips';
import { useStrata, useStrataStore } from './context';
import { fmtCount } from './format';
import { effectiveValue, initName, paramProblem, storedValue, textToValue, valueToText } from './paramText';
import { type NodeInfo, traceIndex } from './traceIndex';

interface FieldProps {
  kind: string;
  spec: ParamSpec;
  /** the value set in the document (undefined: default) */
  given: PyValue | undefined;
  readOnly: boolean;
  onSet(v: PyValue | undefined): void;
}

function sameGiven(a: PyValue | undefined, b: PyValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return jsonEqual(a, b);
}

/** A text field for any parameter type; `testid` names the input. */
function TextField({ kind, spec, given, readOnly, onSet, testid, placeholder }: FieldProps & { testid: string; placeholder?: string }) {
  const eff = effectiveValue(spec, given);
  const shown = valueToText(spec, eff);
  const [st, setSt] = useState({ text: shown, shown, parseError: '' });
  if (st.shown !== shown) {
    // the document changed (undo, the code view): show it, unless the text already says the same
    const p = textToValue(kind, spec, st.text);
    const keep = p.ok && valueToText(spec, effectiveValue(spec, p.value)) === shown;
    setSt({ text: keep ? st.text : shown, shown, parseError: keep ? st.parseError : '' });
  }
  const { text, parseError } = st;
  const setText = (t: string, e: string) => setSt({ text: t, shown, parseError: e });
  return (
    <>
      <input
        type="text"
        className={parseError ? 'invalid' : ''}
        data-testid={testid}
        value={text}
        readOnly={readOnly}
        spellCheck={false}
        inputMode={spec.type === 'int' ? 'numeric' : spec.type === 'float' ? 'decimal' : undefined}
        placeholder={placeholder ?? (spec.default === REQUIRED ? 'required' : '')}
        aria-invalid={!!parseError}
        onChange={(e) => {
          const t = e.target.value;
          const p = textToValue(kind, spec, t);
          setText(t, p.ok ? '' : p.message);
          if (!p.ok) return;
          const v = storedValue(spec, p.value);
          if (!sameGiven(v, given)) onSet(v);
        }}
        onBlur={() => {
          if (parseError) setText(shown, '');
        }}
      />
      {parseError && <div className="field-error" data-testid={`${testid}-error`}>{parseError}</div>}
    </>
  );
}

function SelectField({ spec, given, readOnly, onSet, options, testid }: FieldProps & { options: { value: string; label: string }[]; testid: string }) {
  const eff = effectiveValue(spec, given);
  const cur = eff === undefined ? '' : eff === null ? '\u0000none' : typeof eff === 'string' ? eff : JSON.stringify(eff);
  const opts = [...options];
  if (cur !== '' && !opts.some((o) => o.value === cur)) opts.unshift({ value: cur, label: `${cur} (not allowed)` });
  if (cur === '') opts.unshift({ value: '', label: '(required)' });
  return (
    <select
      data-testid={testid}
      value={cur}
      disabled={readOnly}
      onChange={(e) => {
        const raw = e.target.value;
        const v: PyValue | undefined = raw === '' ? undefined : raw === '\u0000none' ? null : raw;
        const s = storedValue(spec, v);
        if (!sameGiven(s, given)) onSet(s);
      }}
    >
      {opts.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
    </select>
  );
}

function ParamField(props: FieldProps) {
  const { kind, spec, given, readOnly, onSet } = props;
  const testid = `param-${spec.name}`;
  const nullable = spec.nullable || spec.default === null;
  const none = nullable ? [{ value: '\u0000none', label: 'None' }] : [];
  let control: React.ReactNode;
  switch (spec.type) {
    case 'bool': {
      const eff = effectiveValue(spec, given);
      control = (
        <input
          type="checkbox"
          data-testid={testid}
          checked={eff === true}
          disabled={readOnly}
          onChange={(e) => {
            const s = storedValue(spec, e.target.checked);
            if (!sameGiven(s, given)) onSet(s);
          }}
        />
      );
      break;
    }
    case 'str':
      control = spec.choices
        ? <SelectField {...props} testid={testid} options={[...none, ...spec.choices.map((c) => ({ value: c, label: c }))]} />
        : <TextField {...props} testid={testid} />;
      break;
    case 'dtype':
      control = <SelectField {...props} testid={testid} options={[...none, ...DTYPES.map((d) => ({ value: d, label: d }))]} />;
      break;
    case 'layer_class':
      control = spec.choices
        ? <SelectField {...props} testid={testid} options={[...none, ...spec.choices.map((c) => ({ value: c, label: `tl.${c}` }))]} />
        : <TextField {...props} testid={testid} />;
      break;
    case 'initializer': {
      const eff = effectiveValue(spec, given);
      const name = initName(eff);
      const names = Object.keys(INITIALIZERS);
      const opts = [...(nullable ? ['None'] : []), ...names, ...(name === '(lambda)' ? ['(lambda)'] : [])];
      control = (
        <>
          <select
            data-testid={testid}
            value={name}
            disabled={readOnly}
            onChange={(e) => {
              const n = e.target.value;
              if (n === '(lambda)') return;
              // another initializer takes other arguments: it starts from its defaults
              const v: PyValue = n === 'None' ? null : isInitCall(eff) && eff.$init === n ? eff : { $init: n };
              const s = storedValue(spec, v);
              if (!sameGiven(s, given)) onSet(s);
            }}
          >
            {name === '' && <option value="">(required)</option>}
            {opts.map((o) => <option key={o} value={o}>{o}</option>)}
          </select>
          <TextField {...props} testid={`${testid}-expr`} />
        </>
      );
      break;
    }
    default:
      control = <TextField {...props} testid={testid} />;
  }
  const problem = given === undefined
    ? (spec.default === REQUIRED ? `required: set ${spec.name}` : '')
    : paramProblem(kind, spec, given);
  const isSet = given !== undefined;
  return (
    <div className={`field${problem ? ' has-error' : ''}`} data-param={spec.name}>
      <label title={spec.doc ?? ''}>
        <span className={isSet ? 'param-name set' : 'param-name'}>{spec.name}</span>
        <span className="param-type">{typeLabel(spec)}</span>
        {isSet && spec.default !== REQUIRED && !readOnly && (
          <button type="button" className="link reset" title="reset to the default" onClick={() => onSet(undefined)}>↺</button>
        )}
      </label>
      <div className="control">{control}</div>
      {problem && <div className="field-error" data-testid={`${testid}-problem`}>{problem}</div>}
    </div>
  );
}

function typeLabel(spec: ParamSpec): string {
  switch (spec.type) {
    case 'ints': case 'numbers': case 'strs': return `${spec.type.slice(0, -1)} ${spec.style}`;
    case 'int_or_ints': return 'int or tuple';
    default: return spec.type;
  }
}

function Weights({ info }: { info: NodeInfo }) {
  const t = info.trace;
  const own = t.weights;
  const all = useMemo(() => collectWeights(t), [t]);
  const fmt = (w: { name: string; dtype: string; shape: readonly (number | string)[] }) => `${w.name}: ${w.dtype}[${w.shape.join(',')}]`;
  return (
    <div className="section">
      <h4>Weights</h4>
      {t.node.shareWeightsOf && <div className="muted">shares the weights of {t.node.shareWeightsOf}</div>}
      {own.length > 0 && <ul className="mono small">{own.map((w) => <li key={w.name}>{fmt(w)}</li>)}</ul>}
      {own.length === 0 && all.length > 0 && <div className="muted">{all.length} weight tensors in its layers</div>}
      {all.length === 0 && <div className="muted">none</div>}
      {t.state.length > 0 && <div className="muted small">state: {t.state.map(fmt).join(', ')}</div>}
      <div className="param-count" data-testid="param-count">{fmtCount(t.params)} parameters</div>
    </div>
  );
}

const NodePanel = memo(function NodePanel({ info, editable, count }: { info: NodeInfo; editable: boolean; count: number }) {
  const store = useStrataStore();
  const t = info.trace;
  const node = t.node;
  const def = t.analysis.def;
  const specs = def ? [...paramSpecs(def).values()] : [];
  const unknown = Object.keys(node.params ?? {}).filter((k) => !specs.some((s) => s.name === k));
  const slots = def?.args.filter((a) => a.arg === 'slot') ?? [];
  const arity = t.analysis.arity;
  const [wrapOpen, setWrapOpen] = useState(false);
  // a parameter's own error is shown at its field
  const boxErrors = t.errors.filter((e) => !(e.param && specs.some((s) => s.name === e.param) && (e.code === 'bad_param' || e.code === 'missing_param')));
  const setParam = (name: string, value: PyValue | undefined) => store.getState().edit({ type: 'setParam', id: node.id, name, value });
  return (
    <div className="inspector-node" data-node-id={node.id} data-kind={node.kind}>
      <div className="inspector-head">
        <h3>{node.kind}</h3>
        <div className="crumbs" title={info.path || 'the root of the model'}>{info.path ? displayPath(info.path, node.kind) : 'root'}</div>
        {count > 1 && <div className="muted">{count} layers selected; showing the last</div>}
        {def && <p className="summary">{def.summary}</p>}
        {!editable && <p className="muted">Part of a layer function's expansion: read only (edit the function's parameters).</p>}
        {editable && (
          <div className="button-row">
            <button type="button" onClick={() => deleteSelection(store)} data-testid="node-delete">Delete</button>
            <button type="button" onClick={() => duplicateSelection(store)} data-testid="node-duplicate">Duplicate</button>
            <span className="menu-anchor">
              <button type="button" onClick={() => setWrapOpen((o) => !o)} data-testid="node-wrap">Wrap ▾</button>
              {wrapOpen && (
                <div className="menu" onMouseLeave={() => setWrapOpen(false)}>
                  {wrapKinds().map((k) => (
                    <button type="button" key={k} onClick={() => { setWrapOpen(false); wrapSelection(store, k); }}>{k}</button>
                  ))}
                </div>
              )}
            </span>
            {(node.children?.length ?? 0) > 0 && <button type="button" onClick={() => unwrapSelection(store)} data-testid="node-unwrap">Unwrap</button>}
            {(takesLayers(node.kind) || slots.length > 0 || t.expansion) && (
              <button type="button" onClick={() => store.getState().edit({ type: 'setCollapsed', id: node.id, collapsed: !node.collapsed })}>
                {node.collapsed ? 'Expand' : 'Collapse'}
              </button>
            )}
          </div>
        )}
      </div>
      {boxErrors.length > 0 && (
        <div className="section errors" data-testid="inspector-errors">
          {boxErrors.map((e, i) => (
            <div key={i} className="error-item" data-code={e.code}>
              <span className="code">{e.code}</span> {e.message}
              {e.fix && <div className="fix">{e.fix}</div>}
            </div>
          ))}
        </div>
      )}
      {specs.length > 0 && (
        <div className="section">
          <h4>Parameters</h4>
          {specs.map((s) => (
            <ParamField key={s.name} kind={node.kind} spec={s} given={node.params?.[s.name]} readOnly={!editable} onSet={(v) => setParam(s.name, v)} />
          ))}
        </div>
      )}
      {unknown.length > 0 && (
        <div className="section">
          <h4>Unknown parameters</h4>
          {unknown.map((k) => (
            <div key={k} className="field has-error">
              <label><span className="param-name set">{k}</span></label>
              <div className="control mono small">{JSON.stringify(node.params![k])}</div>
              {editable && <button type="button" className="link" onClick={() => setParam(k, undefined)}>remove</button>}
            </div>
          ))}
        </div>
      )}
      {slots.length > 0 && (
        <div className="section">
          <h4>Layer arguments</h4>
          {slots.map((s) => {
            const c = node.slots?.[s.name];
            return (
              <div key={s.name} className="slot-row">
                <span className="param-name">{s.name}</span> {c ? c.kind : <span className="muted">{s.arg === 'slot' && s.defaultKind ? `default ${s.defaultKind}` : '(empty: drop a layer here on the canvas)'}</span>}
              </div>
            );
          })}
        </div>
      )}
      <div className="section">
        <h4>Stack {arity ? <span className="muted">n_in {arity.nIn} → n_out {arity.nOut}</span> : null}</h4>
        <div className="stack-row"><span className="label">before</span><Chips stack={info.before} /></div>
        <div className="stack-row"><span className="label">after</span><Chips stack={info.after} /></div>
      </div>
      <Weights info={info} />
    </div>
  );
});

/** One input of the model's signature: dtype select and dims text (symbols allowed). */
function InputRow({ i, x, onSet, onRemove }: { i: number; x: ShapeDtype; onSet(x: ShapeDtype): void; onRemove(): void }) {
  const shown = x.shape.join(', ');
  const [st, setSt] = useState({ dims: shown, shown, error: '' });
  if (st.shown !== shown) {
    let keep = false;
    try {
      keep = parseShapeDtype(`${x.dtype}[${st.dims}]`).shape.join(', ') === shown;
    } catch { /* replaced */ }
    setSt({ dims: keep ? st.dims : shown, shown, error: keep ? st.error : '' });
  }
  const { dims, error } = st;
  const setDims = (d: string) => setSt((s) => ({ ...s, dims: d }));
  const setError = (e: string) => setSt((s) => ({ ...s, error: e }));
  const apply = (dtype: DType, text: string) => {
    try {
      const next = parseShapeDtype(`${dtype}[${text.trim().replace(/^\[|\]$/g, '')}]`);
      setError('');
      if (formatShapeDtype(next) !== formatShapeDtype(x)) onSet(next);
    } catch (e) {
      if (e instanceof SignatureSyntaxError) setError(e.message.replace(/ in '.*'$/, ''));
      else throw e;
    }
  };
  return (
    <div className="input-row" data-index={i}>
      <span className="muted idx">{i}</span>
      <select data-testid={`input-dtype-${i}`} value={x.dtype} onChange={(e) => apply(e.target.value as DType, dims)}>
        {DTYPES.map((d) => <option key={d} value={d}>{d}</option>)}
      </select>
      <input
        type="text"
        data-testid={`input-dims-${i}`}
        className={error ? 'invalid' : ''}
        value={dims}
        spellCheck={false}
        placeholder="B, 784"
        onChange={(e) => { setDims(e.target.value); apply(x.dtype, e.target.value); }}
        onBlur={() => { if (error) setSt({ dims: shown, shown, error: '' }); }}
      />
      <button type="button" className="link" title="remove this input" data-testid={`input-remove-${i}`} onClick={onRemove}>✕</button>
      {error && <div className="field-error wide">{error}</div>}
    </div>
  );
}

function ModelPanel() {
  const store = useStrataStore();
  const doc = useStrata((s) => s.doc);
  const trace = useStrata((s) => s.trace);
  const idx = traceIndex(trace);
  const setInput = (input: ShapeDtype[]) => store.getState().edit({ type: 'setInput', input });
  return (
    <div className="inspector-model">
      <div className="inspector-head">
        <h3>{doc.name ?? 'Model'}</h3>
        <div className="crumbs">{doc.root.kind} · {idx.order.length} layers</div>
        <p className="muted">Select a layer to edit its parameters.</p>
      </div>
      <div className="section" data-testid="input-signature">
        <h4>Input signature <span className="muted">top of the stack first</span></h4>
        {doc.input.map((x, i) => (
          <InputRow
            key={i}
            i={i}
            x={x}
            onSet={(nx) => setInput(doc.input.map((y, j) => (j === i ? nx : y)))}
            onRemove={() => setInput(doc.input.filter((_, j) => j !== i))}
          />
        ))}
        {doc.input.length === 0 && <div className="muted">no inputs</div>}
        <button type="button" data-testid="input-add" onClick={() => setInput([...doc.input, { dtype: 'float32', shape: ['B', 16] }])}>+ Add input</button>
        <p className="muted small">Dimensions are numbers or symbols (B, L, L*2).</p>
      </div>
      <div className="section">
        <h4>Output</h4>
        <Chips stack={trace.output} />
      </div>
      <div className="section">
        <h4>Totals</h4>
        <div className="param-count" data-testid="param-count">{fmtCount(trace.params)} parameters</div>
        <div className={trace.errors.length ? 'error-text' : 'muted'}>{trace.errors.length} error{trace.errors.length === 1 ? '' : 's'}</div>
      </div>
    </div>
  );
}

export function Inspector() {
  const selection = useStrata((s) => s.selection);
  const trace = useStrata((s) => s.trace);
  const root = useStrata((s) => s.doc.root);
  const id = selection[selection.length - 1];
  const info = id ? traceIndex(trace).byId.get(id) : undefined;
  return (
    <aside className="inspector" data-testid="inspector" aria-label="Inspector">
      {info ? <NodePanel key={id} info={info} editable={!!findNode(root, id!)} count={selection.length} /> : <ModelPanel />}
    </aside>
  );
}
