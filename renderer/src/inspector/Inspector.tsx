// The live inspector: histograms of every quantized linear input of one layer for the current or
// a chosen token, their statistics, and the outlier channels.
import { useEffect, useMemo, useState } from 'react';
import type { Scheme, TapFrame } from '../../../engine/common/api.js';
import { useAppState, useController } from '../app/context.js';
import { usePalette } from '../app/ThemeContext.js';
import { useThrottled } from '../app/useThrottled.js';
import { siteViews } from '../data/siteViews.js';
import { downloadText } from '../export/download.js';
import { inspectorExports } from './exportInspector.js';
import { OutlierPanel } from './OutlierPanel.js';
import { SiteCard, type GridChoice } from './SiteCard.js';

const LIVE_INTERVAL_MS = 66;

export function useScheme(): Scheme {
  return useAppState((s) => s.engine?.info?.run.scheme ?? 'b1.58');
}

export function Inspector({ dark }: { dark: boolean }) {
  const controller = useController();
  const palette = usePalette();
  const frames = useAppState((s) => s.frames);
  const selection = useAppState((s) => s.selection);
  const selectedFrame = useAppState((s) => s.selectedFrame);
  const live = useAppState((s) => !!s.generation);
  const liveScheme = useScheme();
  // A past token is shown with the scheme its message was generated under.
  const selectedScheme = useAppState((s) =>
    s.selection ? s.current?.messages.find((m) => m.id === s.selection?.messageId)?.stats?.scheme : undefined,
  );
  const scheme = selectedScheme ?? liveScheme;
  const [layer, setLayer] = useState(0);
  const [grid, setGrid] = useState<GridChoice>('scheme');

  // Live histograms redraw at most ~15 times a second: faster is unreadable and only costs frames.
  const liveFrame = useThrottled(frames.at(-1) ?? null, LIVE_INTERVAL_MS);
  const frame: TapFrame | null = selection ? (selectedFrame?.state === 'ready' ? selectedFrame.frame : null) : liveFrame;
  const layers = frame?.layers.length ?? frames.at(-1)?.layers.length ?? 0;
  useEffect(() => {
    if (layers && layer >= layers) setLayer(layers - 1);
  }, [layers, layer]);
  const views = useMemo(() => (frame && frame.layers[layer] ? siteViews(frame.layers[layer], scheme) : []), [frame, layer, scheme]);
  // Outliers and heatmaps scan every recent frame: a few updates a second are plenty.
  const recent = useThrottled(frames, 250);

  const exportAs = (kind: 'hist' | 'stats' | 'json') => {
    if (!frame) return;
    const ex = inspectorExports(frame, scheme, layer);
    const base = `bitlens-pos${frame.position}`;
    if (kind === 'hist') downloadText(`${base}-L${layer}-histograms.csv`, ex.histogramsCsv(), 'text/csv');
    else if (kind === 'stats') downloadText(`${base}-layer-stats.csv`, ex.statsCsv(), 'text/csv');
    else downloadText(`${base}-inspector.json`, ex.json(), 'application/json');
  };

  return (
    <section className="inspector" aria-label="Inspector" data-testid="inspector">
      <div className="inspector-bar">
        <span className="token-label" data-testid="inspector-token" aria-live="polite">
          {selection
            ? selectedFrame?.state === 'loading'
              ? `Token #${selection.position}: loading…`
              : selectedFrame?.state === 'missing'
                ? `Token #${selection.position}: frame no longer kept (or taps were off)`
                : `Token #${selection.position}`
            : frame
              ? `${live ? 'Live' : 'Last'} token #${frame.position}`
              : 'No token yet'}
        </span>
        {selection && <button type="button" onClick={() => void controller.inspectToken(null)}>Back to live</button>}
        <label>
          Layer{' '}
          <select value={layer} onChange={(e) => setLayer(Number(e.target.value))} disabled={!layers} data-testid="layer-select">
            {Array.from({ length: layers }, (_, i) => <option key={i} value={i}>{i}</option>)}
          </select>
        </label>
        <label>
          Grid{' '}
          <select value={grid} onChange={(e) => setGrid(e.target.value as GridChoice)}>
            <option value="scheme">scheme ({scheme})</option>
            <option value="int4">INT4 absmean</option>
            <option value="int8">INT8 absmax</option>
            <option value="none">none</option>
          </select>
        </label>
        <span className="export-buttons">
          Export:
          <button type="button" disabled={!frame} onClick={() => exportAs('hist')}>histograms CSV</button>
          <button type="button" disabled={!frame} onClick={() => exportAs('stats')}>layer stats CSV</button>
          <button type="button" disabled={!frame} onClick={() => exportAs('json')}>JSON</button>
        </span>
      </div>
      {!frame && (
        <p className="empty">
          {layers || selection ? 'No inspector data for this token.' : 'Send a message: the activations entering every quantizer show up here while the model answers. Click any answer token to inspect it.'}
        </p>
      )}
      <div className="site-grid">
        {frame && views.map((v) => <SiteCard key={v.site} view={v} scheme={scheme} grid={grid} palette={palette} layer={layer} position={frame.position} />)}
      </div>
      <OutlierPanel frames={recent} scheme={scheme} layer={layer} palette={palette} dark={dark} />
    </section>
  );
}
