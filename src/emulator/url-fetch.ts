// Template (and ROS stack policy) URLs: the real services fetch http(s) URLs themselves (Heat
// template_url, ROS TemplateURL / StackPolicyURL, RFS template_uri). Bounded in size and time so one
// slow or huge URL cannot hold the emulator; each front-end turns a failure into its own error format.

export class UrlFetchError extends Error {}

export interface FetchLimits {
  /** default 524288 (Heat's max_template_size, ROS's TemplateBody limit) */
  maxBytes?: number;
  /** default 10 s */
  timeoutMs?: number;
}

export async function fetchText(url: string, limits: FetchLimits = {}): Promise<string> {
  const maxBytes = limits.maxBytes ?? 524_288;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UrlFetchError(`invalid URL ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UrlFetchError(`unsupported URL scheme ${u.protocol}`);
  const signal = AbortSignal.timeout(limits.timeoutMs ?? 10_000);
  try {
    const res = await fetch(u, { signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel();
      throw new UrlFetchError(`${url} answered ${res.status}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const c of res.body ?? []) {
      size += (c as Uint8Array).length;
      if (size > maxBytes) throw new UrlFetchError(`${url} is larger than ${maxBytes} bytes`);
      chunks.push(c as Uint8Array);
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    if (e instanceof UrlFetchError) throw e;
    throw new UrlFetchError(`${url} could not be fetched: ${(e as Error).message}`);
  }
}
