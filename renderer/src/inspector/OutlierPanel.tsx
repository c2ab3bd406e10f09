// Outlier channels over the recent tokens: per-channel max |x| of the selected layer with the top
// channels listed, and the layer x channel heatmap — before and after the Hadamard transform.
import { memo, useMemo, useState } from 'react';
import type { Scheme, Site, TapFrame } from '../../../engine/common/api.js';
import { channelAbsMax, outlierHeatmap, rankOutliers } from '../data/outliers.js';
import { siteViews } from '../data/siteViews.js';
import type { Palette } from '../app/theme.js';
import { ChannelBars } from './ChannelBars.js';
import { HeatmapCanvas } from './Heatmap.js';
import { SiteSelect } from './SiteSelect.js';

const TOP = 8;

interface Props {
  frames: readonly TapFrame[];
  scheme: Scheme;
  layer: number;
  palette: Palette;
  dark: boolean;
}

type Variant = 'pre' | 'post' | 'input';

/** Per variant, per layer: the vectors of every recent frame. */
function collect(frames: readonly TapFrame[], scheme: Scheme, site: Site) {
  const layers = frames[0]?.layers.length ?? 0;
  const byVariant: Record<Variant, Float32Array[][]> = { pre: [], post: [], input: [] };
  for (let l = 0; l < layers; l++) {
    for (const v of ['pre', 'post', 'input'] as const) byVariant[v][l] = [];
    for (const f of frames) {
      const view = siteViews(f.layers[l], scheme).find((s) => s.site === site);
      if (!view) continue;
      byVariant.input[l].push(view.input);
      if (view.pre && view.post) {
        byVariant.pre[l].push(view.pre);
        byVariant.post[l].push(view.post);
      }
    }
  }
  return byVariant;
}

export const OutlierPanel = memo(function OutlierPanel({ frames, scheme, layer, palette, dark }: Props) {
  const [site, setSite] = useState<Site>('o');
  const data = useMemo(() => {
    if (!frames.length) return null;
    const v = collect(frames, scheme, site);
    const variants: { key: Variant; label: string }[] = v.pre[0]?.length
      ? [{ key: 'pre', label: 'before Hadamard' }, { key: 'post', label: 'after Hadamard' }]
      : [{ key: 'input', label: 'quantizer input' }];
    const panels = variants.map(({ key, label }) => {
      const perLayer = v[key].map((vectors) => channelAbsMax(vectors));
      const sel = perLayer[Math.min(layer, perLayer.length - 1)];
      return { key, label, perLayer, sel, ranking: rankOutliers(sel, TOP), heatmap: outlierHeatmap(perLayer) };
    });
    const yMax = Math.max(1e-9, ...panels.map((p) => p.ranking.top[0]?.value ?? 0));
    return { panels, yMax };
  }, [frames, scheme, site, layer]);

  return (
    <section className="card outliers" aria-label="Outlier channels" data-testid="outliers">
      <header>
        <h3>Outlier channels</h3>
        <SiteSelect value={site} onChange={setSite} />
        <span className="muted">max |x| over the last {frames.length} token{frames.length === 1 ? '' : 's'}</span>
      </header>
      {!data && <p className="empty">Generate to collect per-channel statistics.</p>}
      {data && (
        <div className={`outlier-grid n${data.panels.length}`}>
          {data.panels.map((p) => (
            <div key={p.key} className="outlier-col" data-variant={p.key}>
              <h4>{p.label}</h4>
              <ChannelBars channelMax={p.sel} marked={p.ranking.top.map((t) => t.channel)} yMax={data.yMax} palette={palette} label={`Layer ${layer} ${p.label}`} />
              <table className="top-channels">
                <caption className="muted">Layer {layer}: median {p.ranking.median.toPrecision(3)}</caption>
                <thead>
                  <tr><th scope="col">channel</th><th scope="col">max |x|</th><th scope="col">× median</th></tr>
                </thead>
                <tbody>
                  {p.ranking.top.map((t) => (
                    <tr key={t.channel} className={t.ratio >= 8 ? 'hot' : undefined}>
                      <td>{t.channel}</td>
                      <td>{t.value.toPrecision(4)}</td>
                      <td>{Number.isFinite(t.ratio) ? t.ratio.toFixed(1) : '∞'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <HeatmapCanvas data={p.heatmap} palette={palette} dark={dark} label={`Outlier map ${p.label}`} selectedLayer={layer} />
            </div>
          ))}
        </div>
      )}
    </section>
  );
});
