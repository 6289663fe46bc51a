// A git repository served over plain HTTP on loopback by git's own smart-HTTP CGI (`git
// http-backend`) behind a small Node HTTP server: Argo CD's repo server clones and fetches it like any
// remote. Tests commit through a work tree that pushes to the bare repository on disk.
//
//   const repo = await startGitServer(dir);
//   await repo.commit({ 'apps/stack.yaml': '...' }, 'add a stack');   // path -> content (null deletes)
//   repo.url        // http://127.0.0.1:PORT/repo.git
//   await repo.stop();
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runProcess } from '../../../src/devenv/process.ts';

export interface GitServer {
  url: string;
  /** Writes (or with null removes) files in the work tree, commits and pushes; returns the commit id. */
  commit(files: Record<string, string | null>, message: string): Promise<string>;
  stop(): Promise<void>;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const env = { ...process.env, GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@stackoperator.dev', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@stackoperator.dev' };
  const r = await runProcess('git', args, { cwd, env, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** One CGI request: git http-backend reads the request from env + stdin and writes headers + body. */
function cgi(root: string, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REQUEST_METHOD: req.method,
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    CONTENT_LENGTH: String(body.length),
    REMOTE_ADDR: '127.0.0.1',
    // git clients gzip large upload-pack requests; http-backend inflates them itself.
    HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
    GIT_PROTOCOL: (req.headers['git-protocol'] as string | undefined) ?? '',
  };
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.resume();
  child.once('error', () => res.writeHead(500).end());
  child.once('close', () => {
    const out = Buffer.concat(chunks);
    const split = out.indexOf('\r\n\r\n');
    const head = split < 0 ? '' : out.subarray(0, split).toString('latin1');
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n')) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
      else headers[k] = v;
    }
    res.writeHead(status, headers).end(split < 0 ? out : out.subarray(split + 4));
  });
  child.stdin.end(body);
}

export async function startGitServer(dir: string): Promise<GitServer> {
  const root = path.join(dir, 'srv');
  const bare = path.join(root, 'repo.git');
  const work = path.join(dir, 'work');
  await mkdir(bare, { recursive: true });
  await mkdir(work, { recursive: true });
  await git(bare, ['init', '--bare', '--initial-branch=main', '-q']);
  await git(work, ['init', '--initial-branch=main', '-q']);
  await git(work, ['remote', 'add', 'origin', bare]);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => cgi(root, req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const commit = async (files: Record<string, string | null>, message: string): Promise<string> => {
    for (const [rel, content] of Object.entries(files)) {
      const p = path.join(work, rel);
      if (content === null) {
        await rm(p, { force: true });
      } else {
        await mkdir(path.dirname(p), { recursive: true });
        await writeFile(p, content);
      }
    }
    await git(work, ['add', '-A']);
    await git(work, ['commit', '-q', '--allow-empty', '-m', message]);
    await git(work, ['push', '-q', 'origin', 'main']);
    return await git(work, ['rev-parse', 'HEAD']);
  };
  return {
    url: `http://127.0.0.1:${port}/repo.git`,
    commit,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
