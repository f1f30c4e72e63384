import type { Fact, ReviewFacts } from './facts.js';

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
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.1rem;margin:1.5rem 0 .25rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{width:11rem;color:#57606a;font-weight:600}td p{margin:0 0 .25rem}.risk-high{color:#a40e26;font-weight:600}.risk-medium{color:#9a6700;font-weight:600}
.org{font-size:1.15rem;margin:.25rem 0 1rem}.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem .75rem;margin:.75rem 0}
.refusal{font-size:1.05rem}.next{background:#f6f8fa;border-left:4px solid #0969da;padding:.5rem .75rem}
form{display:inline-block;margin:1rem 1rem 0 0}textarea{width:100%;min-height:4rem}button{font-size:1rem;padding:.45rem 1.2rem}
.approve{background:#1f883d;color:#fff;border:0}.deny{background:#cf222e;color:#fff;border:0}.note{color:#57606a}
@media (max-width:36rem){body{margin:1rem auto}th,td{display:block;width:auto;border:0;padding:.1rem 0}th{padding-top:.6rem}tr{display:block;border-bottom:1px solid #d0d7de;padding-bottom:.4rem}form{display:block;margin-right:0}}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** Inline styles for HTML that cannot rely on a style sheet (mail programs drop `<style>`); constants, never data. */
export interface InlineStyles {
  readonly heading: string;
  readonly table: string;
  readonly th: string;
  readonly td: string;
  readonly warn: string;
}

const attr = (style: string | undefined, className?: string): string =>
  style !== undefined ? ` style="${escapeHtml(style)}"` : className ? ` class="${className}"` : '';

function factRow(fact: Fact, styles?: InlineStyles): string {
  const cell =
    fact.lines.length === 1 ? escapeHtml(fact.lines[0]) : fact.lines.map((l) => `<p${styles ? ' style="margin:0 0 4px"' : ''}>${escapeHtml(l)}</p>`).join('');
  const tone = fact.tone === 'risk-high' && styles ? `${styles.td};color:#a40e26;font-weight:600` : styles?.td;
  return `<tr><th${attr(styles?.th)}>${escapeHtml(fact.label)}</th><td${attr(tone, fact.tone)}>${cell}</td></tr>`;
}

/** The warnings of a review, each in a box a reviewer cannot miss (every text escaped). */
export function warningsHtml(facts: ReviewFacts, styles?: InlineStyles): string {
  return facts.warnings.map((w) => `<p${attr(styles?.warn, 'warn')}><strong>Check before approving:</strong> ${escapeHtml(w)}</p>`).join('');
}

/** The sections of a review as headed tables (every text escaped). */
export function factsHtml(facts: ReviewFacts, styles?: InlineStyles): string {
  return facts.sections
    .map(
      (s) => `<h2${attr(styles?.heading)}>${escapeHtml(s.heading)}</h2><table${attr(styles?.table)}>${s.facts.map((f) => factRow(f, styles)).join('')}</table>`,
    )
    .join('\n');
}
