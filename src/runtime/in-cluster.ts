// The in-cluster connection (a pod's service account) without @kubernetes/client-node: loading
// client-node's KubeConfig loads its whole generated API client, about 80 MiB of RSS in a process
// that never calls it (docs/benchmarks.md, memory). Kubeconfig files, with their auth plugins, stay
// with client-node (src/cli/run.ts loads it only for them).
//
// Same rules as client-go's rest.InClusterConfig: the API server from KUBERNETES_SERVICE_HOST /
// KUBERNETES_SERVICE_PORT, the CA and the token from the service account directory; the token is
// re-read (bound service account tokens are rotated by the kubelet), at most once a minute.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import type { ClusterConnection } from './kube-client.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_REREAD_MS = 60_000;

/** True when the process looks like it runs in a pod (the variables and the token are there). */
export function inClusterAvailable(env: NodeJS.ProcessEnv = process.env, dir: string = SERVICE_ACCOUNT_DIR): boolean {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return false;
  try {
    readFileSync(join(dir, 'token'));
    return true;
  } catch {
    return false;
  }
}

export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir: string = SERVICE_ACCOUNT_DIR, now: () => number = Date.now): ClusterConnection {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '';
  if (!host || !port) throw new Error('in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set');
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  let token = { value: '', readAt: -Infinity };
  const readToken = (): string => {
    if (now() - token.readAt >= TOKEN_REREAD_MS) token = { value: readFileSync(join(dir, 'token'), 'utf8').trim(), readAt: now() };
    return token.value;
  };
  readToken();
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    authenticate: () => Promise.resolve({ headers: { authorization: `Bearer ${readToken()}` }, dispatcher: () => new Agent({ connect: { ca } }) }),
  };
}
