// Error and info banners (engine crash, model load failure, refused requests); dismissable.
import { useAppState, useController } from '../app/context.js';

export function Banners() {
  const controller = useController();
  const banners = useAppState((s) => s.banners);
  if (!banners.length) return null;
  return (
    <div className="banners">
      {banners.map((b) => (
        <div key={b.id} className={`banner banner-${b.kind}`} role={b.kind === 'error' ? 'alert' : 'status'}>
          <span>{b.text}</span>
          <button type="button" aria-label="Dismiss" onClick={() => controller.dismissBanner(b.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
