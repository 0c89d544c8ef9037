/**
 * The canvas's node components (memoised: React Flow re-renders a node only
 * when its node object changes, and the projection keeps unchanged ones).
 * What a node shows comes from the canvas's NodeContents (contents.ts), so a
 * change of content alone re-renders just that node.
 */
import { createContext, memo, useContext, type MouseEvent } from 'react';
import { Handle, type Node, type NodeProps, Position } from '@xyflow/react';
import { type EmptyData, type LayerData, type StackData, collapsedLine, subtitle } from './project';
import { useNodeContent } from './contents';
import type { ProbeStats } from '../panels/runState';

export type LayerRFNode = Node<LayerData, 'layer' | 'box'>;
export type StackRFNode = Node<StackData, 'stack'>;
export type EmptyRFNode = Node<EmptyData, 'empty'>;

/** What a clicked stack chip is: the probe path of its edge and its position in the stack (0 = top). */
export interface ChipClick {
  /** the layer location whose after-edge this is (`run` probes name edges so); '' for the model's output, null for its input */
  probe: string | null;
  index: number;
  text: string;
  role: StackData['role'];
}

export interface CanvasActions {
  toggleCollapsed(d: LayerData): void;
  chipClick(c: ChipClick): void;
}

export const ActionsContext = createContext<CanvasActions>({ toggleCollapsed: () => {}, chipClick: () => {} });

/** After a run: the statistics of each probed stack item (a line under its chip, all of them on hover). */
export type { ProbeStats };
export const StatsContext = createContext<ProbeStats | undefined>(undefined);

const handle = (type: 'source' | 'target'): React.ReactElement => (
  <Handle type={type} position={type === 'target' ? Position.Top : Position.Bottom} isConnectable={false} className="strata-handle" />
);

function tooltip(d: LayerData): string {
  if (d.error) return d.error.message;
  const parts = [d.kind + (d.detail ? ` (${d.detail})` : '')];
  if (d.arity) parts.push(`${d.arity} stack items`);
  if (d.params) parts.push(`${d.params} parameters`);
  if (d.unknown) parts.push('input unknown: an error upstream');
  if (d.errorInside) parts.push('an error inside: expand to see it');
  if (!d.doc) parts.push(`part of ${d.owner}'s expansion`);
  return parts.join(' · ');
}

function classes(d: LayerData, selected: boolean | undefined, base: string): string {
  let c = base;
  if (d.error) c += ' is-error';
  if (d.errorInside) c += ' has-error-inside';
  if (d.unknown) c += ' is-unknown';
  if (selected) c += ' is-selected';
  if (!d.doc) c += ' is-internal';
  return c;
}

function Toggle({ d }: { d: LayerData }): React.ReactElement {
  const { toggleCollapsed } = useContext(ActionsContext);
  const onClick = (e: MouseEvent): void => { e.stopPropagation(); toggleCollapsed(d); };
  return (
    <button type="button" className="strata-toggle nodrag" data-testid="collapse-toggle" onClick={onClick} onDoubleClick={(e) => e.stopPropagation()}
      title={d.collapsed ? 'expand' : 'collapse'} aria-label={d.collapsed ? `expand ${d.kind}` : `collapse ${d.kind}`}>
      {d.collapsed ? '▸' : '▾'}
    </button>
  );
}

export const LayerNode = memo(function LayerNode({ id, data, selected }: NodeProps<LayerRFNode>) {
  const d = useNodeContent(id, data);
  const sub = subtitle(d);
  return (
    <div className={classes(d, selected, 'strata-layer')} data-testid="layer-node" data-kind={d.kind} data-path={d.path} data-id={d.id}
      data-error={d.error?.code} data-unknown={d.unknown ? 'true' : undefined} data-collapsed={d.collapsible ? String(d.collapsed) : undefined}
      title={tooltip(d)}>
      {handle('target')}
      {d.slot !== null && <div className="strata-slot">{d.slot}</div>}
      <div className="strata-title">
        <span className="strata-kind">{d.kind}</span>
        {d.unknown && <span className="strata-q" title="input unknown: an error upstream">?</span>}
        {d.collapsible && <Toggle d={d} />}
      </div>
      {sub && <div className="strata-sub">{sub}</div>}
      {d.collapsed && <div className="strata-sub strata-collapsed-line">{collapsedLine(d)}</div>}
      {d.error && <div className="strata-sub strata-error-line" data-testid="node-error">{d.error.message.split('\n')[0]}</div>}
      {handle('source')}
    </div>
  );
});

export const GroupNode = memo(function GroupNode({ id, data, selected }: NodeProps<LayerRFNode>) {
  const d = useNodeContent(id, data);
  const right = [d.arity, d.params].filter(Boolean).join(' · ');
  return (
    <div className={classes(d, selected, 'strata-group') + (d.path === '' ? ' is-root' : '')} data-testid="layer-node" data-kind={d.kind} data-path={d.path} data-id={d.id}
      data-error={d.error?.code} data-unknown={d.unknown ? 'true' : undefined} data-collapsed="false">
      {handle('target')}
      <div className="strata-group-header" title={tooltip(d)}>
        <Toggle d={d} />
        {d.slot !== null && <span className="strata-slot-inline">{d.slot}:</span>}
        <span className="strata-kind">{d.kind}</span>
        {d.detail && <span className="strata-detail">{d.detail}</span>}
        <span className="strata-right">{right}</span>
      </div>
      {d.shortcut && (
        <div className="strata-shortcut" title="identity shortcut: the Residual adds its input to its layers' output">
          <span className="strata-shortcut-plus">+</span>
        </div>
      )}
      {handle('source')}
    </div>
  );
});

export const StackNode = memo(function StackNode({ id, data }: NodeProps<StackRFNode>) {
  const d = useNodeContent(id, data);
  const { chipClick } = useContext(ActionsContext);
  const stats = useContext(StatsContext);
  const probe = d.probe;
  return (
    <div className="strata-stack" data-role={d.role} data-probe={d.probe ?? undefined}>
      {d.role !== 'input' && handle('target')}
      {d.chips === null ? (
        <span className="strata-chip is-unknown" data-testid="stack-chip-unknown" title="unknown: an error upstream">?</span>
      ) : d.chips.length === 0 ? (
        <span className="strata-stack-empty">empty stack</span>
      ) : (
        d.chips.map((c, k) => {
          const st = probe !== null ? stats?.at(probe, k) : undefined;
          const chip = (
            <span key={k} className={`strata-chip c${c.colour}${st ? ' has-stats' : ''}`} data-testid="stack-chip" data-index={k}
              title={st?.tip ?? (k === 0 ? 'top of the stack' : `stack item ${k}`)}
              onClick={(e) => { e.stopPropagation(); chipClick({ probe: d.probe, index: k, text: c.text, role: d.role }); }}>
              {c.text}
            </span>
          );
          // after a run: the chip over its statistics line (and a red NaN/Inf badge)
          return st ? (
            <span key={k} className="strata-chip-col">
              {chip}
              <span className="strata-edge-stats" data-testid="edge-stats" title={st.tip}>
                {st.line}{st.bad && <span className="strata-nan-badge" data-testid="nan-badge">{st.bad}</span>}
              </span>
            </span>
          ) : chip;
        })
      )}
      {d.role !== 'output' && handle('source')}
    </div>
  );
});

export const EmptyNode = memo(function EmptyNode({ id, data }: NodeProps<EmptyRFNode>) {
  const d = useNodeContent(id, data);
  return (
    <div className={`strata-emptyslot${d.place ? '' : ' is-readonly'}${d.optional ? ' is-optional' : ''}`} data-testid="empty-slot">
      {handle('target')}
      {d.label}
      {handle('source')}
    </div>
  );
});

export const NODE_TYPES = { layer: LayerNode, box: GroupNode, stack: StackNode, empty: EmptyNode };
