// The rfs provider type: Huawei Cloud Resource Formation Service v1.
import type { ResolvedProviderConfig } from '../config.ts';
import { type ProviderModule, akSk } from '../module.ts';
import { RfsClient } from './client.ts';
import { rfsError } from './errors.ts';

export const rfsProvider: ProviderModule<Extract<ResolvedProviderConfig, { type: 'rfs' }>> = {
  type: 'rfs',
  block: 'rfs',
  credentials: (d) => akSk(d, 'secretAccessKey'),
  checkStackName(name) {
    // RFS stack names: at most 128 characters, no dots (docs/providers.md).
    if (name.length > 128 || name.includes('.')) return `stack name ${name} is not valid for rfs: at most 128 characters and no dots; set spec.stackName`;
    return undefined;
  },
  unsentOptions: [],
  templateUrl: true,
  inputOptions: (options) => ({ options }),
  classify: rfsError,
  createClient: (config, http) => new RfsClient(config, http),
};
