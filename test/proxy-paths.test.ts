import { describe, expect, it } from 'vitest';
import { normalisePath } from '../src/proxy/index.ts';

function norm(url: string): { path: string; segments: string[]; search: string } {
  const p = normalisePath(url);
  if (p === null) throw new Error(`rejected: ${url}`);
  return { path: p.path, segments: p.segments, search: p.search };
}

describe('normalisePath', () => {
  it('keeps ordinary paths and the query string as sent', () => {
    expect(norm('/user/alice/lab?reset&x=%2F')).toEqual({
      path: '/user/alice/lab',
      segments: ['user', 'alice', 'lab'],
      search: '?reset&x=%2F',
    });
    expect(norm('/')).toEqual({ path: '/', segments: [], search: '' });
    expect(norm('/?a=1').search).toBe('?a=1');
    expect(norm('/user/alice/').path).toBe('/user/alice/');
  });

  it('collapses empty segments', () => {
    expect(norm('//user///alice//lab/').path).toBe('/user/alice/lab/');
  });

  it('resolves . and .. so a path cannot change server after routing', () => {
    expect(norm('/user/a/../b/').path).toBe('/user/b/');
    expect(norm('/user/a/../b/').segments).toEqual(['user', 'b']);
    expect(norm('/user/a/./lab').path).toBe('/user/a/lab');
    expect(norm('/user/a/b/..').path).toBe('/user/a/');
    expect(norm('/user/a/.').path).toBe('/user/a/');
  });

  it('resolves percent-encoded dot segments in any case mix', () => {
    expect(norm('/user/a/%2e%2e/b/').path).toBe('/user/b/');
    expect(norm('/user/a/%2E%2e/b').segments).toEqual(['user', 'b']);
    expect(norm('/user/a/.%2E/b').segments).toEqual(['user', 'b']);
    expect(norm('/user/a/%2e/b').path).toBe('/user/a/b');
  });

  it('never climbs above the root', () => {
    expect(norm('/../../etc/passwd').path).toBe('/etc/passwd');
    expect(norm('/..').path).toBe('/');
    expect(norm('/%2e%2e/%2e%2e/hub/').path).toBe('/hub/');
  });

  it('routes on decoded segments but forwards the original encoding', () => {
    const p = normalisePath('/user/a%20b/files/x%2Fy.txt?q=1')!;
    expect(p.segments).toEqual(['user', 'a b', 'files', 'x/y.txt']);
    expect(p.path).toBe('/user/a%20b/files/x%2Fy.txt');
  });

  it('keeps an encoded slash inside one segment, so it cannot smuggle a .. past routing', () => {
    const p = normalisePath('/user/a/..%2F..%2Fb/')!;
    expect(p.segments).toEqual(['user', 'a', '../../b']);
    expect(p.path).toBe('/user/a/..%2F..%2Fb/');
  });

  it('accepts absolute-form request targets', () => {
    expect(norm('http://example.org:8000/user/a/../b?x').path).toBe('/user/b');
    expect(norm('http://example.org:8000/user/a/../b?x').search).toBe('?x');
    expect(norm('http://example.org').path).toBe('/');
    expect(norm('http://example.org?q').search).toBe('?q');
  });

  it('rejects malformed percent-encoding and non-path targets instead of throwing', () => {
    expect(normalisePath('/user/%E0%A4%A')).toBeNull();
    expect(normalisePath('/user/%')).toBeNull();
    expect(normalisePath('/user/%zz/x')).toBeNull();
    expect(normalisePath('/%C0%AF')).toBeNull(); // overlong UTF-8 for '/'
    expect(normalisePath('*')).toBeNull();
    expect(normalisePath('')).toBeNull();
    expect(normalisePath('user/alice')).toBeNull();
  });

  it('does not decode the query string, so bad escapes there are the server\'s business', () => {
    expect(norm('/user/a?x=%zz').search).toBe('?x=%zz');
  });
});
