import { describe, expect, it } from 'vitest';
import type { ReviewFacts } from '../../../../lambdas/core/review/facts.js';
import { escapeHtml, factsHtml, page, warningsHtml } from '../../../../lambdas/core/review/html.js';

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

describe('factsHtml and warningsHtml', () => {
  const facts: ReviewFacts = {
    organisation: '<b>Org</b>',
    warnings: ['Name "<img src=x>" differs'],
    sections: [
      {
        heading: '<h1>Who</h1>',
        facts: [
          { label: '<th>', lines: ['<script>one</script>'] },
          { label: 'Risk', lines: ['high'], tone: 'risk-high' },
          { label: 'Many', lines: ['a & b', '<c>'] },
        ],
      },
    ],
  };

  it('renders each section as a headed table, escaping every label, line and heading', () => {
    const html = factsHtml(facts);

    expect(html).toBe(
      '<h2>&lt;h1&gt;Who&lt;/h1&gt;</h2><table><tr><th>&lt;th&gt;</th><td>&lt;script&gt;one&lt;/script&gt;</td></tr><tr><th>Risk</th><td class="risk-high">high</td></tr><tr><th>Many</th><td><p>a &amp; b</p><p>&lt;c&gt;</p></td></tr></table>',
    );
  });

  it('uses inline styles instead of classes when asked, for mail programs', () => {
    const styles = { heading: 'h', table: 't', th: 'x', td: 'y', warn: 'w' };

    expect(factsHtml(facts, styles)).not.toContain('class=');
    expect(factsHtml(facts, styles)).toContain('<td style="y;color:#a40e26;font-weight:600">high</td>');
    expect(warningsHtml(facts, styles)).toBe('<p style="w"><strong>Check before approving:</strong> Name &quot;&lt;img src=x&gt;&quot; differs</p>');
  });

  it('renders a warning box per warning', () => {
    expect(warningsHtml(facts)).toBe('<p class="warn"><strong>Check before approving:</strong> Name &quot;&lt;img src=x&gt;&quot; differs</p>');
    expect(warningsHtml({ ...facts, warnings: [] })).toBe('');
  });
});
