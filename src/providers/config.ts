// What an adapter is built from: a provider object's spec with its credentials Secret already read.
// The Stack controller reads the Secret; adapters never touch Kubernetes.
import type {
  CloudFoundryProviderSpec,
  HeatProviderSpec,
  RfsProviderSpec,
  RosProviderSpec,
  StackProvider,
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

/** Where a provider object's credentials Secret is: its own namespace, or the one a cluster provider names. */
export function credentialsRef(provider: StackProvider): { namespace: string; name: string } | undefined {
  const block = providerBlock(provider.spec);
  if (!block) return undefined;
  const ref = block.value.credentialsSecretRef;
  const cluster = provider.kind === 'ClusterStackProvider';
  return { namespace: cluster ? (ref.namespace ?? '') : (provider.metadata.namespace ?? ''), name: ref.name };
}

/** The one provider block a provider spec sets, with its type (admission allows exactly one). */
export function providerBlock(spec: StackProvider['spec']):
  | { type: ProviderType; value: { credentialsSecretRef: { name: string; namespace?: string } } & Record<string, unknown> }
  | undefined {
  if (spec.heat) return { type: 'heat', value: spec.heat as never };
  if (spec.rfs) return { type: 'rfs', value: spec.rfs as never };
  if (spec.ros) return { type: 'ros', value: spec.ros as never };
  if (spec.cloudFoundry) return { type: 'cloudfoundry', value: spec.cloudFoundry as never };
  return undefined;
}

/** A stable name of a provider object for messages and client identity: Kind/namespace/name. */
export function providerIdentity(provider: StackProvider): string {
  const cluster = provider.kind === 'ClusterStackProvider';
  return `${provider.kind}/${cluster ? '' : `${provider.metadata.namespace ?? ''}/`}${provider.metadata.name ?? ''}`;
}
