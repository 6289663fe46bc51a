// What each provider type knows about itself, behind one shape: where its block sits in a provider
// spec and in a Stack's spec.providerOptions, how its credentials Secret is read, the rules its service
// puts on stack names, how its options split into the StackInput, how its errors are classified and
// how its client is built. Adding a provider is a new folder with one of these plus the API schema
// (docs/architecture.md); nothing in src/stacks changes.
import type { HttpClient, HttpResponse } from './http/client.ts';
import type { ResolvedProviderConfig } from './config.ts';
import type { ProviderError, ProviderType, StackInput, StackProviderClient } from './types.ts';

/** The key of a provider's block in a provider spec and in a Stack's spec.providerOptions. */
export type SpecBlock = 'heat' | 'rfs' | 'ros' | 'cloudFoundry';

export type Parsed<T> = { ok: T } | { error: string };

/** The options-derived part of a StackInput. */
export type InputOptions = Pick<StackInput, 'options' | 'files' | 'environment'>;

export interface ProviderModule<C extends ResolvedProviderConfig = ResolvedProviderConfig> {
  readonly type: C['type'];
  readonly block: SpecBlock;
  /** Credentials from the Secret's decoded data; the error names the keys that are needed. */
  credentials(data: Record<string, string>): Parsed<C['credentials']>;
  /** A message when the service refuses this stack name (admission cannot know the provider type). */
  checkStackName(name: string): string | undefined;
  /** spec.providerOptions.<block> as the service receives it. */
  inputOptions(options: Record<string, unknown>): InputOptions;
  /** Option keys never sent on create / update (used by other calls): they do not count as a change. */
  readonly unsentOptions: readonly string[];
  /** Whether the service fetches a template from a URL itself (spec.template.url). */
  readonly templateUrl: boolean;
  /** The provider's error body and status as a classified ProviderError. */
  classify(res: HttpResponse): ProviderError;
  createClient(config: C, http: HttpClient): StackProviderClient;
}

/** Picks the listed keys that are set (non-empty) from a Secret's data. */
export function pickKeys(data: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => data[k]).map((k) => [k, data[k] as string]));
}

/** AK/SK credentials (rfs, ros), with the service's own key names for the secret part. */
export function akSk(data: Record<string, string>, secretKey: string): Parsed<{ accessKeyId: string; secret: string; securityToken?: string }> {
  const missing = ['accessKeyId', secretKey].filter((k) => !data[k]);
  if (missing.length > 0) return { error: `lacks key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
  return {
    ok: {
      accessKeyId: data.accessKeyId as string,
      secret: data[secretKey] as string,
      ...(data.securityToken ? { securityToken: data.securityToken } : {}),
    },
  };
}

export function withoutKeys(options: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([k]) => !keys.includes(k)));
}

/** Every provider type's module, keyed by type: the registry (src/providers/index.ts fills it). */
export type ProviderModules = { [T in ProviderType]: ProviderModule<Extract<ResolvedProviderConfig, { type: T }>> };
