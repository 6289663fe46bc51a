// An in-memory stand-in for KubeClient's object methods (get/create/replace/patch), for unit tests
// of the helpers that talk to the apiserver. Optimistic concurrency on resourceVersion like the real one.
import { ApiException } from '@kubernetes/client-node';
import type { KubeClient, KubeObject, ResourceRef } from './kube-client.ts';

export class FakeKube {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: { verb: string; key: string; body?: unknown; contentType?: string }[] = [];
  #rv = 1;
  /** When set, every call fails with this. */
  failWith: Error | undefined;

  key(r: ResourceRef, ns: string | undefined, name: string): string {
    return `${r.group}/${r.plural}/${ns ?? ''}/${name}`;
  }
  err(code: number, reason: string): ApiException<unknown> {
    return new ApiException(code, reason, { kind: 'Status', code, reason, message: reason }, {});
  }
  /** Writes an object directly (another writer), bumping its resourceVersion. */
  put(r: ResourceRef, obj: KubeObject): KubeObject {
    const stored = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) } });
    this.objects.set(this.key(r, obj.metadata.namespace, obj.metadata.name ?? ''), stored);
    return structuredClone(stored);
  }
  asClient(): KubeClient {
    const self = this; // eslint-disable-line @typescript-eslint/no-this-alias
    const check = (): void => {
      if (self.failWith) throw self.failWith;
    };
    const client = {
      async get(r: ResourceRef, ns: string | undefined, name: string) {
        self.calls.push({ verb: 'get', key: self.key(r, ns, name) });
        check();
        const o = self.objects.get(self.key(r, ns, name));
        if (!o) throw self.err(404, 'NotFound');
        return structuredClone(o);
      },
      async create(r: ResourceRef, ns: string | undefined, body: KubeObject) {
        const k = self.key(r, ns, body.metadata.name ?? '');
        self.calls.push({ verb: 'create', key: k, body: structuredClone(body) });
        check();
        if (self.objects.has(k)) throw self.err(409, 'AlreadyExists');
        return self.put(r, { ...body, metadata: { ...body.metadata, namespace: ns } });
      },
      async replace(r: ResourceRef, ns: string | undefined, name: string, body: KubeObject) {
        const k = self.key(r, ns, name);
        self.calls.push({ verb: 'replace', key: k, body: structuredClone(body) });
        check();
        const cur = self.objects.get(k);
        if (!cur) throw self.err(404, 'NotFound');
        if (body.metadata.resourceVersion && body.metadata.resourceVersion !== cur.metadata.resourceVersion) throw self.err(409, 'Conflict');
        return self.put(r, body);
      },
      async patch(r: ResourceRef, ns: string | undefined, name: string, body: Record<string, unknown>, opts: { contentType: string }) {
        const k = self.key(r, ns, name);
        self.calls.push({ verb: 'patch', key: k, body: structuredClone(body), contentType: opts.contentType });
        check();
        const cur = self.objects.get(k);
        if (!cur) throw self.err(404, 'NotFound');
        return self.put(r, { ...cur, ...body, metadata: cur.metadata });
      },
    };
    return client as unknown as KubeClient;
  }
}
