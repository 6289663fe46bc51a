// What an adapter is built from: a provider object's spec with its credentials Secret already read.
// The Stack controller resolves it (reading the Secret); adapters never touch Kubernetes.
import type {
  CloudFoundryProviderSpec,
  HeatProviderSpec,
  RfsProviderSpec,
  RosProviderSpec,
} from '../api/v1alpha1/types.ts';
import type { ProviderType } from './types.ts';

export interface HeatCredentials {
  username?: string;
  password?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
}

export interface AkSkCredentials {
  accessKeyId: string;
  /** rfs: secretAccessKey; ros: accessKeySecret. Normalized to one name here. */
  secret: string;
  securityToken?: string;
}

export interface CloudFoundryCredentials {
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
}

interface Common {
  /** Stable identity of the provider object (kind/namespace/name@generation): keys shared limiters and pools. */
  key: string;
  tls?: { caBundle?: string; insecureSkipVerify?: boolean };
  /** spec.allowPlainHTTP: http:// endpoints are refused unless true (see endpoint-policy.ts). */
  allowPlainHTTP?: boolean;
  rateLimit: { qps: number; burst: number };
}

export type ResolvedProviderConfig =
  | (Common & { type: 'heat'; heat: Omit<HeatProviderSpec, 'credentialsSecretRef'>; credentials: HeatCredentials })
  | (Common & { type: 'rfs'; rfs: Omit<RfsProviderSpec, 'credentialsSecretRef'>; credentials: AkSkCredentials })
  | (Common & { type: 'ros'; ros: Omit<RosProviderSpec, 'credentialsSecretRef'>; credentials: AkSkCredentials })
  | (Common & {
      type: 'cloudfoundry';
      cloudFoundry: Omit<CloudFoundryProviderSpec, 'credentialsSecretRef'>;
      credentials: CloudFoundryCredentials;
    });

export type { ProviderType };
