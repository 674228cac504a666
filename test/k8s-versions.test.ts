// The per-hub table behind a pod's version probe (src/spawner/kubernetes/versions.ts): what counts as a version, which
// source wins, and that a server forgets only its own pod IP.
import { describe, expect, it } from 'vitest';
import { ImageVersions, PodProbe } from '../src/spawner/kubernetes/versions.ts';
import { createLogger } from '../src/util/log.ts';

const pod = (ip: string | undefined, image: string, extra: Record<string, unknown> = {}) => ({
  spec: { containers: [{ name: 'notebook', image }], ...extra }, status: ip ? { podIP: ip } : {},
});

describe('image versions for pod probes', () => {
  it('takes only version strings; a server\'s report wins over the pre-puller\'s', () => {
    const v = new ImageVersions(createLogger('test'));
    for (const bad of ['', 'Pulling complete', '3', 'x3.0', '3.0.0\nrm -rf /', `3.0.${'1'.repeat(80)}`]) v.fromPuller('img:1', bad);
    expect(v.known()).toEqual({});
    v.fromPuller('img:1', '4.1.6');
    v.fromServer('img:1', '3.0.0');
    v.fromPuller('img:1', '4.1.6');
    v.fromServer('img:1', null);
    expect(v.known()).toEqual({ 'img:1': { version: '3.0.0', from: 'server' } });
  });

  it('answers by pod IP (IPv4-mapped too) while the server runs; a pod IP taken over by another server stays its', () => {
    const v = new ImageVersions(createLogger('test'));
    v.fromPuller('img:1', '3.0.0');
    const a = new PodProbe(v);
    const b = new PodProbe(v);
    a.seen(pod(undefined, 'img:1'));
    expect(v.forAddress('10.0.0.5')).toBeUndefined();
    a.seen(pod('10.0.0.5', 'img:1'));
    expect(v.forAddress('10.0.0.5')).toBe('3.0.0');
    expect(v.forAddress('::ffff:10.0.0.5')).toBe('3.0.0');
    expect(v.forAddress('10.0.0.6')).toBeUndefined();
    expect(v.forAddress(undefined)).toBeUndefined();
    // a's pod went; its IP now belongs to b's pod before a hears of it
    b.seen(pod('10.0.0.5', 'img:1'));
    a.forget();
    expect(v.forAddress('10.0.0.5')).toBe('3.0.0');
    b.forget();
    expect(v.forAddress('10.0.0.5')).toBeUndefined();
    // the host's network is everyone's
    a.seen(pod('192.0.2.1', 'img:1', { hostNetwork: true }));
    expect(v.forAddress('192.0.2.1')).toBeUndefined();
  });
});
