// Display names of the quantized linear inputs (engine/common/api.ts SITES).
import type { Site } from '../../../engine/common/api.js';

export const SITE_LABELS: Record<Site, string> = {
  qkv: 'QKV input',
  o: 'W_o input',
  gateup: 'up/gate input',
  down: 'W_down input',
};
