// The cloudfoundry provider type: Cloud Foundry v3 apps and deployments.
import type { ResolvedProviderConfig } from '../config.ts';
import { type ProviderModule, pickKeys } from '../module.ts';
import { CloudFoundryClient } from './client.ts';
import { cfError } from './errors.ts';

export const cloudFoundryProvider: ProviderModule<Extract<ResolvedProviderConfig, { type: 'cloudfoundry' }>> = {
  type: 'cloudfoundry',
  block: 'cloudFoundry',
  credentials(d) {
    const hasClient = !!d.clientId && !!d.clientSecret;
    const hasPassword = !!d.username && !!d.password;
    if (!hasClient && !hasPassword) return { error: 'needs clientId + clientSecret, or username + password' };
    return { ok: pickKeys(d, ['clientId', 'clientSecret', 'username', 'password']) };
  },
  checkStackName: () => undefined,
  unsentOptions: [],
  templateUrl: false,
  inputOptions: (options) => ({ options }),
  classify: cfError,
  createClient: (config, http) => new CloudFoundryClient(config, http),
};
