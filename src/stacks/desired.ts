// The desired state of a Stack once its template and parameters are resolved, its hash, and the
// idempotency tokens derived from (uid, generation, operation, attempt). Pure functions: hashing is
// computation, not I/O.
import { createHash } from 'node:crypto';
import type { Stack } from '../api/v1alpha1/types.ts';
import type { StackInput } from '../providers/types.ts';
import { canonicalJson } from '../lib/canonical-json.ts';

/** The StackInput fields the desired-state hash covers, but the template. */
export type HashedFields = Pick<StackInput, 'templateUrl' | 'files' | 'environment' | 'parameters' | 'usePreviousParameters' | 'disableRollback' | 'timeoutMinutes' | 'tags' | 'options'>;

/**
 * Hash of what a provider update would change: template, files, environment, parameters, update
 * flags, tags and provider options. Deletion settings, suspend and output targets are not part of it:
 * changing them never re-deploys the stack.
 */
export function desiredHash(input: HashedFields & { template: unknown }): string {
  const { template, templateUrl, files, environment, parameters, usePreviousParameters, disableRollback, timeoutMinutes, tags, options } =
    input;
  return createHash('sha256')
    .update(
      canonicalJson({ template, templateUrl, files, environment, parameters, usePreviousParameters, disableRollback, timeoutMinutes, tags, options }),
    )
    .digest('hex')
    .slice(0, 32);
}

export type TokenOperation = 'create' | 'update' | 'cancel' | 'delete' | 'protect';

/**
 * Idempotency token for one provider mutation, UUID-shaped so every service accepts it (ROS ClientToken
 * takes up to 64 ASCII characters, RFS Client-Request-Id is conventionally a UUID). The same inputs give
 * the same token, so a call repeated after a crash is recognised by the service as a replay.
 */
export function operationToken(uid: string, generation: number, op: TokenOperation, attempt: number, epoch = '', contentHash = ''): string {
  // `epoch` is the last handled reconcile request: re-applying after a cancel at the same generation
  // must not reuse the cancelled call's token, or the service would answer it as a replay.
  // `contentHash` is the desired-state hash of a create / update: a parametersFrom Secret that changes
  // within one generation sends other content, which must not look like a replay of the first call.
  const h = createHash('sha256')
    .update(`${uid}/${generation}/${op}/${attempt}${epoch ? `/${epoch}` : ''}${contentHash ? `#${contentHash}` : ''}`)
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The cloud stack name: spec.stackName, defaulting to metadata.name (docs/api.md). */
export function effectiveStackName(stack: Stack): string {
  return stack.spec.stackName ?? stack.metadata.name ?? '';
}
