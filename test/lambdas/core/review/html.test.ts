import { describe, expect, it } from 'vitest';
import { escapeHtml, page } from '../../../../lambdas/core/review/html.js';

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('escapes an already escaped entity again rather than trusting it', () => {
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  it('renders non-strings as text', () => {
    expect(escapeHtml(42)).toBe('42');
    expect(escapeHtml(undefined)).toBe('undefined');
  });
});

describe('page', () => {
  it('escapes the title in both places it appears and carries no script', () => {
    const html = page('<script>alert(1)</script>', '<p>body</p>');

    expect(html).not.toContain('<script>');
    expect(html).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(html).toContain('<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1><p>body</p>');
    expect(html).toContain('<meta name="referrer" content="strict-origin">');
  });
});
