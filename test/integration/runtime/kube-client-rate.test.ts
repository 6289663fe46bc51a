// The client-side API rate limit (--kube-api-qps / --kube-api-burst): with burst 1 a second request
// waits for its slot on the client's clock; a fake clock shows it without any timed assertion.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/runtime/clock.ts';
import { KubeClient } from '../../../src/runtime/kube-client.ts';
import { testKubeConfig } from '../../env/kube.ts';

const NAMESPACES = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

describe('KubeClient rate limit', () => {
  it('burst 1 at 1 qps: the second request is sent only when the clock reaches its slot', async () => {
    const clock = new FakeClock(Date.now());
    const client = new KubeClient(testKubeConfig(), { qps: 1, burst: 1, clock });
    await client.get(NAMESPACES, undefined, 'default');
    let second = false;
    const pending = client.get(NAMESPACES, undefined, 'default').then(() => (second = true));
    // A real round trip to the API server takes milliseconds; give it ample (wall) time.
    await new Promise((r) => setTimeout(r, 500));
    expect(second).toBe(false);
    await clock.advance(1000);
    await pending;
    expect(second).toBe(true);
  });

  it('without qps nothing waits (the default)', async () => {
    const clock = new FakeClock(Date.now());
    const client = new KubeClient(testKubeConfig(), { clock });
    await Promise.all([1, 2, 3].map(() => client.get(NAMESPACES, undefined, 'default')));
  });
});
