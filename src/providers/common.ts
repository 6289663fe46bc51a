// Helpers shared by the adapters: ownership marks, idempotency-token shaping, template encoding,
// message truncation and "which field is wrong" extraction.
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { oneLine } from '../lib/text.ts';
import { ProviderError, type StackInput, type StackOutput } from './types.ts';

/** Tag key (ROS, CF label/annotation, Heat `key=value` tag) carrying the owning Stack's UID. */
export const OWNER_KEY = 'stackoperator.dev/uid';
/** Description mark for providers without tags (RFS, ROS legacy): `[stackoperator.dev/uid=<uid>]`. */
export function ownerMark(uid: string): string {
  return `[${OWNER_KEY}=${uid}]`;
}
const MARK_RE = /\[stackoperator\.dev\/uid=([A-Za-z0-9-]{1,64})\]/;
export function readOwnerMark(description: string | undefined | null): string | undefined {
  if (!description) return undefined;
  return MARK_RE.exec(description)?.[1];
}
/** Append (or replace) the ownership mark in a description, keeping it within maxLen. */
export function withOwnerMark(description: string | undefined, uid: string, maxLen: number): string {
  const mark = ownerMark(uid);
  const base = (description ?? '').replace(MARK_RE, '').trim();
  const room = maxLen - mark.length - 1;
  const kept = room > 0 ? base.slice(0, room) : '';
  return kept ? `${kept} ${mark}` : mark;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * Shape a controller-derived idempotency token to a service's limits, deterministically: the token
 * itself when it already fits (length and alphabet), otherwise the hex SHA-256 of it cut to maxLen
 * (and, when the service needs a minimum length, never shorter than minLen: 64 hex chars).
 */
export function shapeToken(token: string, opts: { maxLen: number; minLen?: number; alphabet: RegExp }): string {
  const min = opts.minLen ?? 1;
  if (token.length >= min && token.length <= opts.maxLen && opts.alphabet.test(token)) return token;
  return sha256Hex(token).slice(0, opts.maxLen);
}

/** Provider messages as one line of at most n characters. */
export function truncate(s: string, n = 500): string {
  return oneLine(s, n);
}

/**
 * Where the service gets the template from: the body, or a URL it fetches itself. Never neither and
 * never a placeholder: an empty template may be accepted by a service and destroy every resource.
 */
export function templateSource(input: Pick<StackInput, 'template' | 'templateUrl'>, provider: string): { body: string } | { url: string } {
  const hasBody = input.template !== undefined && input.template !== null && !(typeof input.template === 'string' && input.template.trim() === '');
  const url = input.templateUrl?.trim() ? input.templateUrl : undefined;
  if (hasBody && url) throw invalidInput(`${provider}: give the template inline (or from a ConfigMap) or as a URL, not both`, 'spec.template');
  if (url) return { url };
  if (!hasBody) throw invalidInput(`${provider}: no template: spec.template needs inline, configMapRef or url`, 'spec.template');
  return { body: templateText(input.template) };
}

/** The template as a string (JSON for objects, the user's text for strings). */
export function templateText(template: unknown): string {
  if (typeof template === 'string') return template;
  return JSON.stringify(template ?? {});
}

/** The template as an object when it is one or parses as JSON / YAML; otherwise undefined. */
export function templateObject(template: unknown): Record<string, unknown> | undefined {
  if (template && typeof template === 'object' && !Array.isArray(template)) return template as Record<string, unknown>;
  if (typeof template !== 'string') return undefined;
  try {
    const v = JSON.parse(template) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  try {
    const v = parseYaml(template) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* not YAML */
  }
  return undefined;
}

/** Common "which field" patterns in provider messages (Heat, ROS, RFS, CF all use some of them). */
export function fieldFromMessage(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const patterns: RegExp[] = [
    /[Pp]arameter \(([^)\s]+)\)/, // Heat / ROS: The Parameter (x) was not provided.
    /[Pp]arameter ['"]?([A-Za-z0-9_.:-]+)['"]? (?:was|is|must|not)/,
    /[Pp]roperty error:\s*([A-Za-z0-9_.[\]-]+)/, // Heat: Property error: resources.r.properties.x
    /[Pp]roperty ['"(]?([A-Za-z0-9_.-]+)['")]?/,
    /(?:[Pp]arameter|[Ff]ield|[Aa]rgument)[: ]+['"]?([A-Za-z0-9_.[\]-]+)['"]?/,
    /[Tt]he (?:input )?parameter ['"]?([A-Za-z0-9_.-]+)['"]?/,
  ];
  for (const re of patterns) {
    const m = re.exec(message);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

export function invalidInput(message: string, field: string): ProviderError {
  return new ProviderError('Invalid', message, { code: 'InvalidInput', field });
}

/** Parse a value that may be JSON-encoded (RFS outputs) without failing. */
export function maybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

export function outputsFrom<T>(list: T[] | undefined, map: (o: T) => StackOutput | undefined): StackOutput[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: StackOutput[] = [];
  for (const o of list) {
    const v = map(o);
    if (v) out.push(v);
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}
