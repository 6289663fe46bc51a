// Shared helpers for the runtime's integration tests.
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlreadyExists } from '../../../src/runtime/errors.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../../../src/runtime/kube-client.ts';

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
