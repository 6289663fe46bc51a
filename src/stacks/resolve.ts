// Resolution of a Stack's inputs before planning: which provider (and its credentials), and the
// desired state (template from inline / ConfigMap / URL, parameters merged from Secrets and
// ConfigMaps). Reads go through the narrow `ResolveReader`, so this file is testable without a cluster.
import { MAX_TEMPLATE_BYTES } from '../api/v1alpha1/schemas.ts';
import type { Stack, StackProvider } from '../api/v1alpha1/types.ts';
import type { ResolvedProviderConfig } from '../providers/config.ts';
import type { ProviderType, StackInput } from '../providers/types.ts';
import { desiredHash, effectiveStackName } from './desired.ts';
import type { ResolveError } from './plan.ts';
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
  if (spec.heat) return 'heat';
  if (spec.rfs) return 'rfs';
  if (spec.ros) return 'ros';
  if (spec.cloudFoundry) return 'cloudfoundry';
  return undefined;
}

function need(data: Record<string, string>, keys: string[], where: string): ResolveError | undefined {
  const missing = keys.filter((k) => !data[k]);
  if (missing.length === 0) return undefined;
  return {
    reason: REASONS.CredentialsInvalid,
    message: `credentials Secret ${where} lacks key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
  };
}

/** A provider object plus its credentials Secret, as an adapter config. */
export async function resolveProviderConfig(
  provider: StackProvider,
  reader: ResolveReader,
): Promise<Resolved<ResolvedProviderConfig>> {
  const spec = provider.spec;
  const type = providerType(spec);
  const cluster = provider.kind === 'ClusterStackProvider';
  const id = `${provider.kind}/${cluster ? '' : `${provider.metadata.namespace ?? ''}/`}${provider.metadata.name ?? ''}`;
  if (!type) return { error: { reason: REASONS.InvalidSpec, message: `${id} sets no provider block` } };
  const block = (spec.heat ?? spec.rfs ?? spec.ros ?? spec.cloudFoundry) as { credentialsSecretRef: { name: string; namespace?: string } };
  const ref = block.credentialsSecretRef;
  const secretNs = cluster ? (ref.namespace ?? '') : (provider.metadata.namespace ?? '');
  const secret = await reader.secret(secretNs, ref.name);
  const where = `${secretNs}/${ref.name}`;
  if (!secret) {
    return { error: { reason: REASONS.CredentialsInvalid, message: `credentials Secret ${where} of ${id} not found` } };
  }
  const d = secret.data;
  const common = {
    key: `${id}@${provider.metadata.generation ?? 0}/${provider.metadata.uid ?? ''}`,
    ...(spec.tls ? { tls: spec.tls } : {}),
    ...(spec.allowPlainHTTP === true ? { allowPlainHTTP: true } : {}),
    rateLimit: { qps: spec.rateLimit?.qps ?? 10, burst: spec.rateLimit?.burst ?? 20 },
  };
  const { credentialsSecretRef: _ignored, ...rest } = block;
  switch (type) {
    case 'heat': {
      const hasPassword = !!d.username && !!d.password;
      const hasAppCred = !!d.applicationCredentialSecret && (!!d.applicationCredentialId || (!!d.applicationCredentialName && !!d.username));
      if (!hasPassword && !hasAppCred) {
        return {
          error: {
            reason: REASONS.CredentialsInvalid,
            message: `credentials Secret ${where} needs username + password, or applicationCredentialId + applicationCredentialSecret`,
          },
        };
      }
      const credentials = Object.fromEntries(
        ['username', 'password', 'applicationCredentialId', 'applicationCredentialName', 'applicationCredentialSecret']
          .filter((k) => d[k])
          .map((k) => [k, d[k] as string]),
      );
      return { ok: { ...common, type, heat: rest as NonNullable<typeof spec.heat>, credentials } };
    }
    case 'rfs': {
      const err = need(d, ['accessKeyId', 'secretAccessKey'], where);
      if (err) return { error: err };
      const credentials = {
        accessKeyId: d.accessKeyId as string,
        secret: d.secretAccessKey as string,
        ...(d.securityToken ? { securityToken: d.securityToken } : {}),
      };
      return { ok: { ...common, type, rfs: rest as NonNullable<typeof spec.rfs>, credentials } };
    }
    case 'ros': {
      const err = need(d, ['accessKeyId', 'accessKeySecret'], where);
      if (err) return { error: err };
      const credentials = {
        accessKeyId: d.accessKeyId as string,
        secret: d.accessKeySecret as string,
        ...(d.securityToken ? { securityToken: d.securityToken } : {}),
      };
      return { ok: { ...common, type, ros: rest as NonNullable<typeof spec.ros>, credentials } };
    }
    case 'cloudfoundry': {
      const hasClient = !!d.clientId && !!d.clientSecret;
      const hasPassword = !!d.username && !!d.password;
      if (!hasClient && !hasPassword) {
        return {
          error: { reason: REASONS.CredentialsInvalid, message: `credentials Secret ${where} needs clientId + clientSecret, or username + password` },
        };
      }
      const credentials = Object.fromEntries(['clientId', 'clientSecret', 'username', 'password'].filter((k) => d[k]).map((k) => [k, d[k] as string]));
      return { ok: { ...common, type, cloudFoundry: rest as NonNullable<typeof spec.cloudFoundry>, credentials } };
    }
  }
}

const OPTION_BLOCK: Record<ProviderType, 'heat' | 'rfs' | 'ros' | 'cloudFoundry'> = {
  heat: 'heat',
  rfs: 'rfs',
  ros: 'ros',
  cloudfoundry: 'cloudFoundry',
};

function invalid(message: string): { error: ResolveError } {
  return { error: { reason: REASONS.InvalidSpec, message } };
}

/** Checks the Stack against rules only the provider type knows (admission cannot see the provider). */
export function validateForProvider(stack: Stack, type: ProviderType): ResolveError | undefined {
  const name = effectiveStackName(stack);
  if (type === 'rfs' && (name.length > 128 || name.includes('.'))) {
    return { reason: REASONS.InvalidSpec, message: `stack name ${name} is not valid for rfs: at most 128 characters and no dots; set spec.stackName` };
  }
  if (type === 'ros' && name.length > 255) {
    return { reason: REASONS.InvalidSpec, message: `stack name ${name} is too long for ros (at most 255 characters)` };
  }
  const opts = stack.spec.providerOptions ?? {};
  for (const [block, value] of Object.entries(opts)) {
    if (value !== undefined && block !== OPTION_BLOCK[type]) {
      return { reason: REASONS.InvalidSpec, message: `spec.providerOptions.${block} does not apply to a ${type} provider; use spec.providerOptions.${OPTION_BLOCK[type]}` };
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

  const block = OPTION_BLOCK[type];
  const options = { ...((spec.providerOptions?.[block] as Record<string, unknown> | undefined) ?? {}) };
  let files: Record<string, string> | undefined;
  let environment: unknown;
  if (type === 'heat') {
    files = options.files as Record<string, string> | undefined;
    environment = options.environment;
    delete options.files;
    delete options.environment;
  }
  const input: StackInput = {
    name: effectiveStackName(stack),
    template,
    ...(templateUrl ? { templateUrl } : {}),
    ...(files ? { files } : {}),
    ...(environment !== undefined ? { environment } : {}),
    parameters,
    usePreviousParameters: spec.usePreviousParameters ?? false,
    disableRollback: spec.disableRollback ?? false,
    timeoutMinutes: spec.timeoutMinutes ?? 60,
    tags: spec.tags ?? {},
    ownerUid: stack.metadata.uid ?? '',
    deletionProtection: spec.deletionProtection ?? false,
    options,
  };
  return { ok: { hash: desiredHash(input), input } };
}
