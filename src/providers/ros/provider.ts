// The ros provider type: Alibaba Cloud ROS, the RPC API (2019-09-10) or the legacy REST API
// (provider spec.ros.apiVersion "2015-09-01").
import type { ResolvedProviderConfig } from '../config.ts';
import { type ProviderModule, akSk } from '../module.ts';
import { rosError } from './errors.ts';
import { RosLegacyClient } from './legacy-client.ts';
import { RosRpcClient } from './rpc-client.ts';

export const rosProvider: ProviderModule<Extract<ResolvedProviderConfig, { type: 'ros' }>> = {
  type: 'ros',
  block: 'ros',
  credentials: (d) => akSk(d, 'accessKeySecret'),
  checkStackName(name) {
    if (name.length > 255) return `stack name ${name} is too long for ros (at most 255 characters)`;
    return undefined;
  },
  unsentOptions: ['cancelType'],
  templateUrl: true,
  inputOptions: (options) => ({ options }),
  classify: rosError,
  createClient: (config, http) => (config.ros.apiVersion === '2015-09-01' ? new RosLegacyClient(config, http) : new RosRpcClient(config, http)),
};
