const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A minimal, self-contained page (no scripts, inline styles only, so a strict CSP applies). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin"><title>${escapeHtml(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{width:11rem;color:#57606a;font-weight:600}.risk-high{color:#a40e26;font-weight:600}.risk-medium{color:#9a6700;font-weight:600}
form{display:inline-block;margin:1rem 1rem 0 0}textarea{width:100%;min-height:4rem}button{font-size:1rem;padding:.45rem 1.2rem}
.approve{background:#1f883d;color:#fff;border:0}.deny{background:#cf222e;color:#fff;border:0}.note{color:#57606a}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}
