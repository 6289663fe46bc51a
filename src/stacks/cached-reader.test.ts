import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../runtime/kube-client.ts';
import { CachedReader } from './cached-reader.ts';

/** A client whose Secret holds whatever `value` is when the read is made, counting reads. */
function secretClient(): { client: KubeClient; reads: () => number; set: (v: string) => void } {
  let value = 'one';
  let reads = 0;
  const client = {
    get: async () => {
      reads++;
      return { metadata: { name: 's' }, data: { password: Buffer.from(value).toString('base64') } };
    },
  } as unknown as KubeClient;
  return { client, reads: () => reads, set: (v) => (value = v) };
}

describe('CachedReader', () => {
  it('refreshes an entry in the background late in its TTL and never serves one past it', async () => {
    let now = 0;
    const s = secretClient();
    const r = new CachedReader(s.client, 10_000, () => now);
    expect((await r.secret('ns', 's'))?.data).toEqual({ password: 'one' });
    expect(s.reads()).toBe(1);
    now = 5_000;
    await r.secret('ns', 's');
    expect(s.reads()).toBe(1);
    s.set('two');
    now = 8_500; // 85 % of the TTL: still served from the cache, and read again behind it
    expect((await r.secret('ns', 's'))?.data).toEqual({ password: 'one' });
    expect(s.reads()).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    now = 12_000; // past the first read's TTL: the refreshed value, without a wait for the apiserver
    expect((await r.secret('ns', 's'))?.data).toEqual({ password: 'two' });
    expect(s.reads()).toBe(2);
    now = 18_600; // past the refresh's TTL with no access in between: read before answering
    s.set('three');
    expect((await r.secret('ns', 's'))?.data).toEqual({ password: 'three' });
    expect(s.reads()).toBe(3);
  });

  it('a failed refresh is not retried on every read: the entry is served until its TTL ends, then fetched', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const client = {
      get: async () => {
        reads++;
        if (fail) throw new Error('apiserver unavailable');
        return { metadata: { name: 's' }, data: { password: Buffer.from('one').toString('base64') } };
      },
    } as unknown as KubeClient;
    const r = new CachedReader(client, 10_000, () => now);
    await r.secret('ns', 's');
    fail = true;
    now = 8_500;
    for (let i = 0; i < 20; i++) {
      expect((await r.secret('ns', 's'))?.data).toEqual({ password: 'one' });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(reads).toBe(2); // the first read and one background refresh, whatever the number of reads
    now = 10_001;
    await expect(r.secret('ns', 's')).rejects.toThrow('apiserver unavailable');
    expect(reads).toBe(3);
  });
});
