// The heat provider type: OpenStack Heat v1 and Huawei / OTC RTS (same wire shape).
import type { ResolvedProviderConfig } from '../config.ts';
import { type ProviderModule, pickKeys, withoutKeys } from '../module.ts';
import { HeatClient } from './client.ts';
import { heatError } from './errors.ts';

const CREDENTIAL_KEYS = ['username', 'password', 'applicationCredentialId', 'applicationCredentialName', 'applicationCredentialSecret'] as const;

export const heatProvider: ProviderModule<Extract<ResolvedProviderConfig, { type: 'heat' }>> = {
  type: 'heat',
  block: 'heat',
  credentials(d) {
    const hasPassword = !!d.username && !!d.password;
    const hasAppCred = !!d.applicationCredentialSecret && (!!d.applicationCredentialId || (!!d.applicationCredentialName && !!d.username));
    if (!hasPassword && !hasAppCred) return { error: 'needs username + password, or applicationCredentialId + applicationCredentialSecret' };
    return { ok: pickKeys(d, CREDENTIAL_KEYS) };
  },
  checkStackName: () => undefined,
  unsentOptions: [],
  templateUrl: true,
  inputOptions(options) {
    // Heat takes files and environment as top-level request fields, not as options.
    const files = options.files as Record<string, string> | undefined;
    const environment = options.environment;
    return {
      options: withoutKeys(options, ['files', 'environment']),
      ...(files ? { files } : {}),
      ...(environment !== undefined ? { environment } : {}),
    };
  },
  classify: heatError,
  createClient: (config, http) => new HeatClient(config, http),
};
