// Sparsity: zeros in the quantized activations (and a4.8's top-K mask), zero ternary weights, and
// the share of parameters a token needs, next to BitNet a4.8's Table 2 (7B).
import { memo, useMemo } from 'react';
import type { Scheme, TapFrame } from '../../../engine/common/api.js';
import type { ModelInfoPayload } from '../../../contract/index.js';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { SITES } from '../../../engine/common/api.js';
import { siteQuantizer } from '../../../engine/common/scheme.js';
import { useAppState } from '../app/context.js';
import { usePalette } from '../app/ThemeContext.js';
import { useThrottled } from '../app/useThrottled.js';
import { A48_TABLE2_7B, B158_OVERALL_7B } from '../data/paper.js';
import { SITE_LABELS } from '../data/sites.js';
import { layerActivationSparsity, quantizedZeroFraction, summarizeSparsity, PROJECTIONS, type Projection } from '../data/sparsity.js';
import { useScheme } from '../inspector/Inspector.js';
import { ChartCard } from './ChartCard.js';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const axisPct = (v: number) => `${Math.round(v * 100)}%`;

export function SparsityView() {
  // A recharts re-render of these charts is a ~100 ms task: every 2 s at most, never per token.
  const frames = useThrottled(useAppState((s) => s.frames), 2000);
  const info = useAppState((s) => s.engine?.info);
  const scheme = useScheme();
  return <SparsityCharts frames={frames} info={info} scheme={scheme} />;
}

const SparsityCharts = memo(function SparsityCharts({ frames, info, scheme }: { frames: TapFrame[]; info: ModelInfoPayload | undefined; scheme: Scheme }) {
  const c = usePalette();

  const measured = useMemo(() => {
    if (!frames.length) return null;
    const layers = frames[0].layers.length;
    const perLayer: Record<Projection, number>[] = [];
    const sites: Record<string, number>[] = [];
    for (let l = 0; l < layers; l++) {
      const acc = Object.fromEntries(PROJECTIONS.map((p) => [p, 0])) as Record<Projection, number>;
      const siteAcc: Record<string, number> = { layer: l, qkv: 0, o: 0, gateup: 0, down: 0 };
      for (const f of frames) {
        const s = layerActivationSparsity(f.layers[l], scheme);
        for (const p of PROJECTIONS) acc[p] += s[p] / frames.length;
        for (const site of SITES) {
          siteAcc[site] += quantizedZeroFraction(siteQuantizer(scheme, site), f.layers[l][site]) / frames.length;
        }
      }
      perLayer.push(acc);
      sites.push(siteAcc);
    }
    return { perLayer, sites };
  }, [frames, scheme]);

  const summary = useMemo(
    () => (measured && info ? summarizeSparsity(measured.perLayer, info.projections) : null),
    [measured, info],
  );

  const comparison = summary
    ? [
        { name: 'QKV', model: summary.byProjection.q, paper: A48_TABLE2_7B.qkv },
        { name: 'Out', model: summary.byProjection.o, paper: A48_TABLE2_7B.o },
        { name: 'Up', model: summary.byProjection.up, paper: A48_TABLE2_7B.up },
        { name: 'Gate', model: summary.byProjection.gate, paper: A48_TABLE2_7B.gate },
        { name: 'Down', model: summary.byProjection.down, paper: A48_TABLE2_7B.down },
        { name: 'Overall', model: summary.overall, paper: A48_TABLE2_7B.overall },
      ]
    : [];

  const weights = (info?.projections ?? []).map((layer, l) => ({
    layer: l,
    ...Object.fromEntries(PROJECTIONS.map((p) => [p, layer[p]?.zeroFraction ?? 0])),
  }));

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
      {summary && (
        <ChartCard title="Activation sparsity per projection vs a4.8 Table 2 (7B)" file="sparsity-vs-paper"
          note="Up counts rows skipped where the gate output is zero: 1 − (1 − s_in)(1 − s_gate).">
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={comparison} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
              <CartesianGrid stroke={c.grid} vertical={false} />
              <XAxis dataKey="name" stroke={c.muted} tick={{ fill: c.muted, fontSize: 11 }} />
              <YAxis domain={[0, 1]} tickFormatter={axisPct} stroke={c.muted} tick={{ fill: c.muted, fontSize: 11 }} width={40} />
              <Tooltip formatter={(v) => pct(Number(v))} />
              <Legend />
              <Bar dataKey="model" name={`this model (${scheme})`} fill={c.series[0]} isAnimationActive={false} />
              <Bar dataKey="paper" name="a4.8 7B (paper)" fill={c.series[1]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </ChartCard>
      )}
      {measured && (
        <ChartCard title="Zeros in the quantized activations per layer" file="sparsity-per-layer"
          note={scheme === 'a4.8' ? 'W_o input includes the top-50% mask.' : undefined}>
          <ResponsiveContainer width="100%" height={200}>
            <LineChart data={measured.sites} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
              <CartesianGrid stroke={c.grid} />
              <XAxis dataKey="layer" stroke={c.muted} tick={{ fill: c.muted, fontSize: 11 }} />
              <YAxis domain={[0, 1]} tickFormatter={axisPct} stroke={c.muted} tick={{ fill: c.muted, fontSize: 11 }} width={40} />
              <Tooltip formatter={(v) => pct(Number(v))} labelFormatter={(l) => `layer ${l}`} />
              <Legend />
              {SITES.map((s, i) => (
                <Line key={s} dataKey={s} name={SITE_LABELS[s]} stroke={c.series[i]} dot={false} isAnimationActive={false} />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </ChartCard>
      )}
      {weights.length > 0 && (
        <ChartCard title="Zero ternary weights per projection" file="weight-zeros">
          <ResponsiveContainer width="100%" height={200}>
            <LineChart data={weights} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
              <CartesianGrid stroke={c.grid} />
              <XAxis dataKey="layer" stroke={c.muted} tick={{ fill: c.muted, fontSize: 11 }} />
              <YAxis domain={[0, 1]} tickFormatter={axisPct} stroke={c.muted} tick={{ fill: c.muted, fontSize: 11 }} width={40} />
              <Tooltip formatter={(v) => pct(Number(v))} labelFormatter={(l) => `layer ${l}`} />
              <Legend />
              {PROJECTIONS.map((p, i) => (
                <Line key={p} dataKey={p} stroke={c.series[i % c.series.length]} dot={false} isAnimationActive={false} />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </ChartCard>
      )}
    </section>
  );
});
