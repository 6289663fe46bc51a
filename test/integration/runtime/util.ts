// Shared helpers for the runtime's integration tests.
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlreadyExists } from '../../../src/runtime/errors.ts';
import { type ClusterConnection, KubeClient, type KubeObject, type RequestOptions, type ResourceRef } from '../../../src/runtime/kube-client.ts';
import type { KubeConfig } from '@kubernetes/client-node';

export const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
export const WIDGETS: ResourceRef = { group: 'runtime-test.stackoperator.dev', version: 'v1', plural: 'widgets', kind: 'Widget' };

/** Polls `cond` every 50 ms until it returns true (bounded). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export function configMap(namespace: string, name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name, labels }, data };
}

/** Creates the test CRD (Widget, namespaced, status subresource) once and waits for it to be served. */
export async function ensureWidgetCrd(client: KubeClient): Promise<void> {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${WIDGETS.plural}.${WIDGETS.group}` },
    spec: {
      group: WIDGETS.group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  };
  const crdRef: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };
  try {
    await client.create(crdRef, undefined, crd);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  await waitFor('Widget CRD served', async () => {
    try {
      await client.list(WIDGETS, 'default', { limit: 1 });
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * A client whose LISTs of one resource stop after the first page until release(): an informer's first
 * list is then certainly incomplete while a test looks (no race to win).
 */
export class HeldListClient extends KubeClient {
  readonly #plural: string;
  #release!: () => void;
  readonly #gate = new Promise<void>((r) => (this.#release = r));
  constructor(kc: KubeConfig | ClusterConnection, plural: string) {
    super(kc);
    this.#plural = plural;
  }
  override async request<T = unknown>(opts: RequestOptions): Promise<T> {
    if (opts.method === 'GET' && opts.path.endsWith(`/${this.#plural}`) && opts.query?.continue) await this.#gate;
    return super.request<T>(opts);
  }
  release(): void {
    this.#release();
  }
}
