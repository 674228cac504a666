import { describe, expect, it } from 'vitest';
import { escapeAttr, escapeHtml, html, raw } from '../src/hub/pages/escape.ts';
import { hubUrl, safeUrl, userServerPath, withQuery } from '../src/hub/pages/urls.ts';
import { normaliseBaseUrl as normalizeBase, urlEscapePath as quoteName } from '../src/util/url.ts';

describe('escapeHtml', () => {
  it('escapes the five markup characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
  it('does not double-escape in one pass and treats null as empty', () => {
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });
});

describe('escapeAttr', () => {
  it('escapes quotes, brackets, backticks and control characters', () => {
    expect(escapeAttr(`"'<>&\``)).toBe('&quot;&#39;&lt;&gt;&amp;&#96;');
    expect(escapeAttr('a\nb\tc\rd')).toBe('a&#10;b&#9;c&#13;d');
  });
  it('leaves ordinary URL characters readable', () => {
    expect(escapeAttr('/hub/login?next=%2Fhub%2F')).toBe('/hub/login?next=%2Fhub%2F');
  });
});

describe('html tag', () => {
  const evil = `"><script>alert(1)</script>`;
  it('escapes interpolations in text and attributes', () => {
    const out = html`<p title="${evil}">${evil}</p>`.value;
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    );
  });
  it('uses the attribute escape inside tags only', () => {
    expect(html`<input value="${'a\nb'}">`.value).toBe('<input value="a&#10;b">');
    expect(html`<p>${'a\nb'}</p>`.value).toBe('<p>a\nb</p>');
    // After a tag closes, text context again, even with a quote-containing attribute before it.
    expect(html`<a title="x>y">${'a\tb'}</a>`.value).toBe('<a title="x>y">a\tb</a>');
  });
  it('passes trusted fragments, nested templates and arrays through', () => {
    const items = ['<b>', 'c'].map((t) => html`<li>${t}</li>`);
    expect(html`<ul>${items}</ul>${raw('<hr>')}`.value).toBe('<ul><li>&lt;b&gt;</li><li>c</li></ul><hr>');
  });
  it('renders null, undefined and false as nothing, numbers as text', () => {
    expect(html`[${null}${undefined}${false}${0}]`.value).toBe('[0]');
  });
});

describe('url helpers', () => {
  it('normalises the base url', () => {
    expect(normalizeBase('/')).toBe('/');
    expect(normalizeBase('')).toBe('/');
    expect(normalizeBase('jhub')).toBe('/jhub/');
    expect(normalizeBase('/jhub')).toBe('/jhub/');
    expect(normalizeBase('//evil.com/')).toBe('/evil.com/');
    expect(() => normalizeBase(undefined as unknown as string)).toThrow(/base_url must be a string/);
  });
  it('builds hub urls from the base', () => {
    expect(hubUrl('/', 'login')).toBe('/hub/login');
    expect(hubUrl('/jhub/', '/home')).toBe('/jhub/hub/home');
    expect(hubUrl('/jhub/')).toBe('/jhub/hub/');
  });
  it('quotes names like JupyterHub, keeping @ and ~', () => {
    expect(quoteName('a b/c@d~e')).toBe('a%20b%2Fc@d~e');
    expect(quoteName(`x'(y)*!`)).toBe('x%27%28y%29%2A%21');
    expect(quoteName('"><script>')).toBe('%22%3E%3Cscript%3E');
    expect(userServerPath('bob', '')).toBe('bob');
    expect(userServerPath('bob', 'my lab')).toBe('bob/my%20lab');
  });
  it('adds query parameters, skipping empty ones', () => {
    expect(withQuery('/hub/login', { next: '/hub/x?a=1&b=2' })).toBe('/hub/login?next=%2Fhub%2Fx%3Fa%3D1%26b%3D2');
    expect(withQuery('/hub/login', { next: '' })).toBe('/hub/login');
    expect(withQuery('/a?x=1', { y: 2, z: undefined })).toBe('/a?x=1&y=2');
  });
  it('refuses script and data urls', () => {
    expect(safeUrl('javascript:alert(1)')).toBe('#');
    expect(safeUrl(' java\nscript:alert(1)')).toBe('#');
    expect(safeUrl('DATA:text/html,x', '/hub/')).toBe('/hub/');
    expect(safeUrl('/user/bob/')).toBe('/user/bob/');
    expect(safeUrl('https://example.org/x')).toBe('https://example.org/x');
    expect(safeUrl('/a?b=c:d')).toBe('/a?b=c:d');
    expect(safeUrl(undefined)).toBe('#');
  });
});
