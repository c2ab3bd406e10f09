// Saving exports from the renderer: a blob URL on a temporary <a download> (works in Electron
// and in the browser host, and needs no remote or inline content under a strict CSP).

export function downloadBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadText(filename: string, text: string, mimeType = 'text/plain'): void {
  downloadBlob(filename, new Blob([text], { type: mimeType }));
}

/** PNG of a canvas. */
export function canvasToPng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('canvas could not be encoded as PNG'))), 'image/png'),
  );
}

/**
 * PNG of an SVG chart (recharts): serialised, drawn on a canvas at 2x over the given background.
 * Colours are concrete values (see app/theme.ts palette), so the SVG renders the same standalone.
 */
export async function svgToPng(svg: SVGSVGElement, background: string): Promise<Blob> {
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('chart SVG could not be rendered to PNG'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * 2);
    canvas.height = Math.ceil(height * 2);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas context for PNG export');
    ctx.scale(2, 2);
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(img, 0, 0, width, height);
    return await canvasToPng(canvas);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** PNG of the first chart (canvas or SVG) inside `container`. */
export async function exportChartPng(container: HTMLElement | null, filename: string, background: string): Promise<void> {
  const canvas = container?.querySelector('canvas');
  // The chart's own surface, not a legend icon (also an svg.recharts-surface).
  const svg = container?.querySelector('.recharts-wrapper > svg') ?? container?.querySelector('svg');
  if (canvas) downloadBlob(filename, await canvasToPng(canvas));
  else if (svg) downloadBlob(filename, await svgToPng(svg as SVGSVGElement, background));
  else throw new Error('no chart to export');
}
