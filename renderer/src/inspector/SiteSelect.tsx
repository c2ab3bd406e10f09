// The "Site" picker (which quantized linear input to show), shared by the outlier panel and compare mode.
import { SITES, type Site } from '../../../engine/common/api.js';
import { SITE_LABELS } from '../data/sites.js';

export function SiteSelect({ value, onChange }: { value: Site; onChange: (site: Site) => void }) {
  return (
    <label>
      Site{' '}
      <select value={value} onChange={(e) => onChange(e.target.value as Site)}>
        {SITES.map((s) => <option key={s} value={s}>{SITE_LABELS[s]}</option>)}
      </select>
    </label>
  );
}
