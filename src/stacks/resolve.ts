// Resolution of a Stack's inputs before planning: which provider (and its credentials), and the
// desired state (template from inline / ConfigMap / URL, parameters merged from Secrets and
// ConfigMaps). Reads go through the narrow `ResolveReader`, so this file is testable without a cluster.
import { MAX_TEMPLATE_BYTES } from '../api/v1alpha1/schemas.ts';
import type { Stack, StackProvider } from '../api/v1alpha1/types.ts';
import { type ResolvedProviderConfig, credentialsRef, providerBlock, providerIdentity } from '../providers/config.ts';
import { providerModule, resolveConfig } from '../providers/index.ts';
import type { ProviderType, StackInput } from '../providers/types.ts';
import { desiredHash, effectiveStackName } from './desired.ts';
import type { ResolveError } from './plan/index.ts';
import { REASONS } from './reasons.ts';

export interface KeyedData {
  /** Decoded values (Secret data is base64-decoded by the reader). */
  data: Record<string, string>;
}

export interface ResolveReader {
  /** undefined when the object does not exist. */
  secret(namespace: string, name: string): Promise<KeyedData | undefined>;
  configMap(namespace: string, name: string): Promise<KeyedData | undefined>;
}

export type Resolved<T> = { ok: T } | { error: ResolveError };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style duration ("1m30s") to milliseconds; the CRD pattern already guarantees the shape. */
export function parseDuration(text: string | undefined, fallbackMs: number): number {
  if (!text) return fallbackMs;
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1000);
    matched += m[0];
  }
  return matched === text && total > 0 ? total : fallbackMs;
}

export function providerType(spec: StackProvider['spec']): ProviderType | undefined {
  return providerBlock(spec)?.type;
}

/** A provider object plus its credentials Secret, as an adapter config. */
export async function resolveProviderConfig(provider: StackProvider, reader: ResolveReader): Promise<Resolved<ResolvedProviderConfig>> {
  const id = providerIdentity(provider);
  const ref = credentialsRef(provider);
  if (!ref) return { error: { reason: REASONS.InvalidSpec, message: `${id} sets no provider block` } };
  const where = `${ref.namespace}/${ref.name}`;
  const secret = await reader.secret(ref.namespace, ref.name);
  if (!secret) return { error: { reason: REASONS.CredentialsInvalid, message: `credentials Secret ${where} of ${id} not found` } };
  const config = resolveConfig(provider, secret.data);
  if ('error' in config) return { error: { reason: REASONS.CredentialsInvalid, message: `credentials Secret ${where} ${config.error}` } };
  return config;
}

function invalid(message: string): { error: ResolveError } {
  return { error: { reason: REASONS.InvalidSpec, message } };
}

/** Checks the Stack against rules only the provider type knows (admission cannot see the provider). */
export function validateForProvider(stack: Stack, type: ProviderType): ResolveError | undefined {
  const module = providerModule(type);
  const nameProblem = module.checkStackName(effectiveStackName(stack));
  if (nameProblem) return { reason: REASONS.InvalidSpec, message: nameProblem };
  for (const [block, value] of Object.entries(stack.spec.providerOptions ?? {})) {
    if (value !== undefined && block !== module.block) {
      return { reason: REASONS.InvalidSpec, message: `spec.providerOptions.${block} does not apply to a ${type} provider; use spec.providerOptions.${module.block}` };
    }
  }
  return undefined;
}

/** Template, parameters and options as the provider will receive them, with their hash. */
export async function resolveDesired(
  stack: Stack,
  type: ProviderType,
  reader: ResolveReader,
): Promise<Resolved<{ hash: string; input: StackInput }>> {
  const ns = stack.metadata.namespace ?? '';
  const spec = stack.spec;
  const problem = validateForProvider(stack, type);
  if (problem) return { error: problem };

  let template: unknown;
  let templateUrl: string | undefined;
  if (spec.template.inline !== undefined) {
    template = spec.template.inline;
  } else if (spec.template.configMapRef) {
    const ref = spec.template.configMapRef;
    const cm = await reader.configMap(ns, ref.name);
    if (!cm) return { error: { reason: REASONS.TemplateNotFound, message: `template ConfigMap ${ns}/${ref.name} not found` } };
    const body = cm.data[ref.key];
    if (body === undefined) {
      return { error: { reason: REASONS.TemplateNotFound, message: `template ConfigMap ${ns}/${ref.name} has no key ${ref.key}` } };
    }
    template = body;
  } else if (spec.template.url) {
    templateUrl = spec.template.url;
  } else {
    return invalid('spec.template sets none of inline, configMapRef or url');
  }
  if (template !== undefined) {
    const size = Buffer.byteLength(typeof template === 'string' ? template : JSON.stringify(template));
    if (size > MAX_TEMPLATE_BYTES) {
      return { error: { reason: REASONS.TemplateTooLarge, message: `the template is ${size} bytes; at most ${MAX_TEMPLATE_BYTES} (512 KiB) are allowed` } };
    }
    if (typeof template === 'string' && template.trim() === '') return invalid('the template is empty');
  }

  // parametersFrom first, in order; spec.parameters wins (like Flux valuesFrom + values).
  const parameters: Record<string, string> = {};
  for (const [i, src] of (spec.parametersFrom ?? []).entries()) {
    const obj = src.kind === 'Secret' ? await reader.secret(ns, src.name) : await reader.configMap(ns, src.name);
    if (!obj) {
      if (src.optional) continue;
      return { error: { reason: REASONS.ParametersNotFound, message: `spec.parametersFrom[${i}]: ${src.kind} ${ns}/${src.name} not found` } };
    }
    if (src.key) {
      const v = obj.data[src.key];
      if (v === undefined) {
        if (src.optional) continue;
        return { error: { reason: REASONS.ParametersNotFound, message: `spec.parametersFrom[${i}]: ${src.kind} ${ns}/${src.name} has no key ${src.key}` } };
      }
      parameters[src.parameter ?? src.key] = v;
    } else {
      Object.assign(parameters, obj.data);
    }
  }
  Object.assign(parameters, spec.parameters ?? {});
  if (Object.keys(parameters).length > 200) return invalid(`${Object.keys(parameters).length} parameters after merging parametersFrom; at most 200`);

  const module = providerModule(type);
  const split = module.inputOptions({ ...((spec.providerOptions?.[module.block] as Record<string, unknown> | undefined) ?? {}) });
  const input: StackInput = {
    name: effectiveStackName(stack),
    template,
    ...(templateUrl ? { templateUrl } : {}),
    ...(split.files ? { files: split.files } : {}),
    ...(split.environment !== undefined ? { environment: split.environment } : {}),
    parameters,
    usePreviousParameters: spec.usePreviousParameters ?? false,
    disableRollback: spec.disableRollback ?? false,
    timeoutMinutes: spec.timeoutMinutes ?? 60,
    tags: spec.tags ?? {},
    ownerUid: stack.metadata.uid ?? '',
    deletionProtection: spec.deletionProtection ?? false,
    options: split.options,
  };
  return { ok: { hash: desiredHash(input), input } };
}
