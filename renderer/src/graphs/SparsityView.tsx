// Sparsity: zeros in the quantized activations (and a4.8's top-K mask), zero ternary weights, and
// the share of parameters a token needs, next to BitNet a4.8's Table 2 (7B). The per-layer chart
// is live, so it is drawn on canvas; the recharts ones render only when their rounded values change.
import { memo, useMemo, useRef } from 'react';
import type { Scheme, TapFrame } from '../../../engine/common/api.js';
import type { ModelInfoPayload } from '../../../contract/index.js';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CanvasLines } from './CanvasLines.js';
import { SITES } from '../../../engine/common/api.js';
import { useAppState } from '../app/context.js';
import { usePalette } from '../app/ThemeContext.js';
import { useThrottled } from '../app/useThrottled.js';
import { A48_TABLE2_7B, B158_OVERALL_7B } from '../data/paper.js';
import { SITE_LABELS } from '../data/sites.js';
import { frameSparsity, meanFrameSparsity, roundToStep, summarizeSparsity, PROJECTIONS } from '../data/sparsity.js';
import { useScheme } from '../inspector/Inspector.js';
import { ChartCard } from './ChartCard.js';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const axisPct = (v: number) => `${Math.round(v * 100)}%`;

export function SparsityView() {
  // Every 2 s at most: averaging the recent frames is cheap (cached per frame), and the charts
  // below redraw only when a value moves by a display step.
  const frames = useThrottled(useAppState((s) => s.frames), 2000);
  const info = useAppState((s) => s.engine?.info);
  const scheme = useScheme();
  return <SparsityCharts frames={frames} info={info} scheme={scheme} />;
}

/** The first value seen for each key: same key, same object (so memoised children skip). */
function useKeyed<T>(value: T, key: string): T {
  const ref = useRef({ key, value });
  if (ref.current.key !== key) ref.current = { key, value };
  return ref.current.value;
}

/** Half a percentage point: about one pixel of the 0-100% axes below. */
const DISPLAY_STEP = 0.005;

const SparsityCharts = memo(function SparsityCharts({ frames, info, scheme }: { frames: TapFrame[]; info: ModelInfoPayload | undefined; scheme: Scheme }) {
  const measured = useMemo(() => {
    if (!frames.length) return null;
    // Only frames of the current model's depth (a frame from before a model switch cannot be averaged in).
    const layers = frames.at(-1)!.layers.length;
    return meanFrameSparsity(frames.filter((f) => f.layers.length === layers).map((f) => frameSparsity(f, scheme)));
  }, [frames, scheme]);
  const summary = useMemo(
    () => (measured && info ? summarizeSparsity(measured.perLayer, info.projections) : null),
    [measured, info],
  );

  // Chart data keyed by its values rounded to the display step: an unchanged key keeps the same
  // arrays, so the memoised charts skip the re-render (a recharts re-render is ~100 ms here).
  const comparisonRows = summary
    ? [
        ['QKV', summary.byProjection.q, A48_TABLE2_7B.qkv],
        ['Out', summary.byProjection.o, A48_TABLE2_7B.o],
        ['Up', summary.byProjection.up, A48_TABLE2_7B.up],
        ['Gate', summary.byProjection.gate, A48_TABLE2_7B.gate],
        ['Down', summary.byProjection.down, A48_TABLE2_7B.down],
        ['Overall', summary.overall, A48_TABLE2_7B.overall],
      ].map(([name, model, paper]) => ({ name: name as string, model: roundToStep(model as number, DISPLAY_STEP), paper: paper as number }))
    : [];
  const comparison = useKeyed(comparisonRows, comparisonRows.map((r) => r.model).join());

  const siteValues = measured ? SITES.map((site) => measured.sites.map((l) => roundToStep(l[site], DISPLAY_STEP))) : [];
  const sites = useKeyed(siteValues, siteValues.map((v) => v.join()).join('|'));

  return (
    <section className="graphs" aria-label="Sparsity" data-testid="sparsity-view">
      {summary ? (
        <p className="summary" data-testid="sparsity-summary">
          Scheme <b>{scheme}</b>, last {frames.length} tokens: overall activation sparsity <b>{pct(summary.overall)}</b> (a4.8 7B:{' '}
          {pct(A48_TABLE2_7B.overall)}, b1.58 7B: {pct(B158_OVERALL_7B)}); active parameters <b>{pct(summary.activeShare)}</b>, with zero ternary
          weights skipped too <b>{pct(summary.activeNonZeroShare)}</b>; zero ternary weights {pct(summary.weightZeros)}.
        </p>
      ) : (
        <p className="empty">Generate a few tokens to measure activation sparsity.</p>
      )}
      {summary && <ComparisonChart data={comparison} scheme={scheme} />}
      {measured && <SitesPerLayerChart values={sites} scheme={scheme} />}
      {info && info.projections.length > 0 && <WeightZerosChart projections={info.projections} />}
    </section>
  );
});

const axisProps = (muted: string) => ({ stroke: muted, tick: { fill: muted, fontSize: 11 } });

const ComparisonChart = memo(function ComparisonChart({ data, scheme }: { data: { name: string; model: number; paper: number }[]; scheme: Scheme }) {
  const c = usePalette();
  return (
    <ChartCard title="Activation sparsity per projection vs a4.8 Table 2 (7B)" file="sparsity-vs-paper"
      note="Up counts rows skipped where the gate output is zero: 1 − (1 − s_in)(1 − s_gate). Bars in steps of 0.5%.">
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={data} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
          <CartesianGrid stroke={c.grid} vertical={false} />
          <XAxis dataKey="name" {...axisProps(c.muted)} />
          <YAxis domain={[0, 1]} tickFormatter={axisPct} {...axisProps(c.muted)} width={40} />
          <Tooltip formatter={(v) => pct(Number(v))} />
          <Legend />
          <Bar dataKey="model" name={`this model (${scheme})`} fill={c.series[0]} isAnimationActive={false} />
          <Bar dataKey="paper" name="a4.8 7B (paper)" fill={c.series[1]} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});

// Live during generation, so on canvas like the memory series.
const SitesPerLayerChart = memo(function SitesPerLayerChart({ values, scheme }: { values: number[][]; scheme: Scheme }) {
  const c = usePalette();
  const xs = useMemo(() => Array.from({ length: values[0]?.length ?? 0 }, (_, l) => l), [values]);
  return (
    <ChartCard title="Zeros in the quantized activations per layer" file="sparsity-per-layer"
      note={scheme === 'a4.8' ? 'W_o input includes the top-50% mask.' : undefined}>
      <CanvasLines
        label="Fraction of zeros in the quantized activations per layer and site"
        xs={xs}
        series={SITES.map((s, i) => ({ name: SITE_LABELS[s], color: c.series[i], values: values[i] }))}
        formatX={(v) => (Number.isInteger(v) ? `layer ${v}` : '')}
        formatY={axisPct}
        yDomain={[0, 1]}
        height={200}
      />
    </ChartCard>
  );
});

// Fixed for a loaded model: renders when the model changes, never during generation.
const WeightZerosChart = memo(function WeightZerosChart({ projections }: { projections: ModelInfoPayload['projections'] }) {
  const c = usePalette();
  const data = useMemo(
    () => projections.map((layer, l) => ({ layer: l, ...Object.fromEntries(PROJECTIONS.map((p) => [p, layer[p]?.zeroFraction ?? 0])) })),
    [projections],
  );
  return (
    <ChartCard title="Zero ternary weights per projection" file="weight-zeros">
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={data} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
          <CartesianGrid stroke={c.grid} />
          <XAxis dataKey="layer" {...axisProps(c.muted)} />
          <YAxis domain={[0, 1]} tickFormatter={axisPct} {...axisProps(c.muted)} width={40} />
          <Tooltip formatter={(v) => pct(Number(v))} labelFormatter={(l) => `layer ${l}`} />
          <Legend />
          {PROJECTIONS.map((p, i) => (
            <Line key={p} dataKey={p} stroke={c.series[i % c.series.length]} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartCard>
  );
});
