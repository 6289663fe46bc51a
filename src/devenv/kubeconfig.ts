// A kubeconfig file for a token user: the local control plane's admin (src/devenv/control-plane.ts) and
// the tests' ServiceAccount users (kubectl create token). One writer, so both stay readable by kubectl,
// helm and @kubernetes/client-node alike.
import { readFileSync, writeFileSync } from 'node:fs';

export interface TokenKubeconfig {
  server: string;
  /** PEM file of the CA that signed the apiserver's serving certificate (embedded as data). */
  caFile: string;
  token: string;
  user: string;
  namespace: string;
}

/** Writes the kubeconfig (mode 0600: it holds a bearer token) to `path` and returns the path. */
export function writeTokenKubeconfig(path: string, k: TokenKubeconfig): string {
  const caData = readFileSync(k.caFile).toString('base64');
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: test',
    '  cluster:',
    `    server: ${k.server}`,
    `    certificate-authority-data: ${caData}`,
    'users:',
    `- name: ${k.user}`,
    '  user:',
    `    token: ${k.token}`,
    'contexts:',
    '- name: test',
    '  context:',
    '    cluster: test',
    `    user: ${k.user}`,
    `    namespace: ${k.namespace}`,
    'current-context: test',
    '',
  ];
  writeFileSync(path, lines.join('\n'), { mode: 0o600 });
  return path;
}
