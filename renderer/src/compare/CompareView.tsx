// Compare mode: one prompt under two schemes side by side — continuations, histograms of the
// chosen layer and the quantization error (SQNR) per layer.
import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Site } from '../../../engine/common/api.js';
import { SCHEMES, type Scheme } from '../../../engine/common/scheme.js';
import { useAppState, useController } from '../app/context.js';
import { usePalette } from '../app/ThemeContext.js';
import { layerSqnr } from '../data/quantError.js';
import { siteViews } from '../data/siteViews.js';
import { SITE_LABELS } from '../data/sites.js';
import { toJson } from '../data/exportData.js';
import { downloadText } from '../export/download.js';
import { SiteSelect } from '../inspector/SiteSelect.js';
import { ChartCard } from '../graphs/ChartCard.js';
import { SiteCard } from '../inspector/SiteCard.js';
import { runCompare, type CompareRun } from './runCompare.js';

export function CompareView() {
  const controller = useController();
  const palette = usePalette();
  const engine = useAppState((s) => s.engine);
  const models = useAppState((s) => s.models);
  const model = models.find((m) => m.id === engine?.modelId) ?? models[0];
  const [a, setA] = useState<Scheme>('b1.58');
  const [b, setB] = useState<Scheme>(model?.trainedScheme && model.trainedScheme !== 'b1.58' ? model.trainedScheme : 'v2-a4');
  const [prompt, setPrompt] = useState('The quick brown fox');
  const [maxTokens, setMaxTokens] = useState(32);
  const [runs, setRuns] = useState<CompareRun[]>([]);
  const [busy, setBusy] = useState(false);
  const [layer, setLayer] = useState(0);
  const [site, setSite] = useState<Site>('o');

  const start = async () => {
    if (!model || !prompt.trim()) return;
    const run = engine?.info?.run ?? model.run;
    setBusy(true);
    await controller.guard(() =>
      runCompare(controller, model.id, { scheme: run.scheme, kvBits: run.kvBits, device: run.device }, [a, b], prompt.trim(), maxTokens, setRuns),
    );
    setBusy(false);
  };

  const layers = runs[0]?.frames.at(-1)?.layers.length ?? 0;
  const sqnr = useMemo(() => {
    const per = runs.map((r) => (r.done && r.frames.length ? layerSqnr(r.frames, r.scheme) : null));
    if (!per[0] && !per[1]) return [];
    const n = Math.max(per[0]?.length ?? 0, per[1]?.length ?? 0);
    return Array.from({ length: n }, (_, l) => ({
      layer: l,
      a: per[0]?.[l]?.[site] ?? null,
      b: per[1]?.[l]?.[site] ?? null,
    }));
  }, [runs, site]);

  return (
    <section className="compare" aria-label="Compare schemes" data-testid="compare-view">
      <form className="compare-form" onSubmit={(e) => { e.preventDefault(); void start(); }}>
        <label className="grow">
          Prompt
          <textarea rows={2} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <label>
          Scheme A
          <select value={a} onChange={(e) => setA(e.target.value as Scheme)}>{SCHEMES.map((s) => <option key={s}>{s}</option>)}</select>
        </label>
        <label>
          Scheme B
          <select value={b} onChange={(e) => setB(e.target.value as Scheme)}>{SCHEMES.map((s) => <option key={s}>{s}</option>)}</select>
        </label>
        <label>
          Tokens
          <input type="number" min={1} max={512} value={maxTokens} onChange={(e) => setMaxTokens(Math.max(1, Math.min(512, Number(e.target.value) || 1)))} />
        </label>
        <button type="submit" className="primary" disabled={busy || !model || !prompt.trim()}>{busy ? 'Running…' : 'Compare (greedy)'}</button>
        <button type="button" disabled={!runs.length || busy} onClick={() => downloadText('bitlens-compare.json', toJson({ prompt, runs: runs.map((r) => ({ ...r, frames: undefined, layerSqnrDb: r.frames.length ? layerSqnr(r.frames, r.scheme) : [] })) }), 'application/json')}>
          Export JSON
        </button>
      </form>
      {!model && <p className="empty">Load a model first.</p>}
      <div className="compare-cols">
        {runs.map((r, i) => (
          <article key={i} className="card compare-run" data-testid={`compare-run-${i}`}>
            <h3>{i ? 'B' : 'A'}: {r.scheme}{r.done ? '' : ' (running…)'}</h3>
            <p className="continuation">{prompt}<mark>{r.text}</mark></p>
            {r.error && <p className="msg-error" role="alert">{r.error}</p>}
            {r.stats && <p className="muted">{r.stats.tokensPerSec.toFixed(1)} tok/s · {r.stats.generatedTokens} tokens · {r.stats.device}</p>}
          </article>
        ))}
      </div>
      {runs.length > 0 && (
        <div className="compare-controls">
          <label>
            Layer{' '}
            <select value={layer} onChange={(e) => setLayer(Number(e.target.value))}>
              {Array.from({ length: layers }, (_, i) => <option key={i} value={i}>{i}</option>)}
            </select>
          </label>
          <SiteSelect value={site} onChange={setSite} />
        </div>
      )}
      {sqnr.length > 0 && (
        <ChartCard title={`Quantization error per layer: ${SITE_LABELS[site]} (SQNR, higher is better)`} file={`compare-sqnr-${site}`}>
          <ResponsiveContainer width="100%" height={200}>
            <LineChart data={sqnr} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
              <CartesianGrid stroke={palette.grid} />
              <XAxis dataKey="layer" stroke={palette.muted} tick={{ fill: palette.muted, fontSize: 11 }} />
              <YAxis unit=" dB" stroke={palette.muted} tick={{ fill: palette.muted, fontSize: 11 }} width={56} />
              <Tooltip formatter={(v) => (v === null ? 'not quantized' : `${Number(v).toFixed(1)} dB`)} labelFormatter={(l) => `layer ${l}`} />
              <Legend />
              <Line dataKey="a" name={`A: ${runs[0]?.scheme}`} stroke={palette.series[0]} isAnimationActive={false} connectNulls />
              <Line dataKey="b" name={`B: ${runs[1]?.scheme}`} stroke={palette.series[1]} isAnimationActive={false} connectNulls />
            </LineChart>
          </ResponsiveContainer>
        </ChartCard>
      )}
      <div className="compare-cols">
        {runs.map((r, i) => {
          const frame = r.frames.at(-1);
          const view = frame?.layers[layer] ? siteViews(frame.layers[layer], r.scheme).find((v) => v.site === site) : undefined;
          return (
            <div key={i} data-testid={`compare-hist-${i}`}>
              {view && frame && <SiteCard view={view} scheme={r.scheme} grid="scheme" palette={palette} layer={layer} position={frame.position} />}
            </div>
          );
        })}
      </div>
    </section>
  );
}
