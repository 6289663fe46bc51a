// Emulated identities: Keystone users / application credentials and tokens, UAA clients / users and
// tokens, and the AK/SK pairs accepted by the RFS and ROS signature verifiers.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from './engine/clock.ts';

export interface KeystoneCredentials {
  authUrl?: string;
  userId: string;
  username: string;
  password: string;
  userDomainName: string;
  userDomainId: string;
  projectId: string;
  projectName: string;
  projectDomainName: string;
  projectDomainId: string;
  region: string;
  applicationCredential: { id: string; name: string; secret: string };
  /** lifetime of issued tokens */
  tokenTtlSeconds: number;
}

export interface AkSkCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RfsCredentials extends AkSkCredentials {
  projectId: string;
  region: string;
}

export interface RosCredentials extends AkSkCredentials {
  regionId: string;
}

export interface CloudFoundryCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  /** client used for the password grant (like the cf CLI's "cf" client with an empty secret) */
  passwordClientId: string;
  passwordClientSecret: string;
  orgGuid: string;
  spaceGuid: string;
  tokenTtlSeconds: number;
}

export interface EmulatorCredentials {
  keystone: KeystoneCredentials;
  rfs: RfsCredentials;
  ros: RosCredentials;
  cloudFoundry: CloudFoundryCredentials;
}

export type CredentialOverrides = {
  keystone?: Partial<KeystoneCredentials>;
  rfs?: Partial<RfsCredentials>;
  ros?: Partial<RosCredentials>;
  cloudFoundry?: Partial<CloudFoundryCredentials>;
};

export function defaultCredentials(over: CredentialOverrides = {}): EmulatorCredentials {
  return {
    keystone: {
      userId: 'c4f1a6f5d4b84a56a5f8f0f5a1e2d3c4',
      username: 'demo',
      password: 'demo-password',
      userDomainName: 'Default',
      userDomainId: 'default',
      projectId: '6e2b7b4cbf5b4d4c9a3d5f9a7c1e0b21',
      projectName: 'demo',
      projectDomainName: 'Default',
      projectDomainId: 'default',
      region: 'RegionOne',
      applicationCredential: { id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', name: 'stack-operator', secret: 'app-cred-secret' },
      tokenTtlSeconds: 3600,
      ...over.keystone,
    },
    rfs: {
      accessKeyId: 'EMULATORRFSACCESSKEY',
      secretAccessKey: 'emulator-rfs-secret-key',
      projectId: '0a1b2c3d4e5f4a5b8c9d0e1f2a3b4c5d',
      region: 'emu-region-1',
      ...over.rfs,
    },
    ros: {
      accessKeyId: 'EMULATORROSACCESSKEY',
      secretAccessKey: 'emulator-ros-secret',
      regionId: 'cn-emulator',
      ...over.ros,
    },
    cloudFoundry: {
      clientId: 'stack-operator',
      clientSecret: 'cf-client-secret',
      username: 'admin',
      password: 'cf-admin-password',
      passwordClientId: 'cf',
      passwordClientSecret: '',
      orgGuid: '3b8f6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      spaceGuid: '7d9e1f2a-3b4c-4d5e-8f9a-0b1c2d3e4f5a',
      tokenTtlSeconds: 600,
      ...over.cloudFoundry,
    },
  };
}

export interface IssuedToken {
  token: string;
  kind: 'keystone' | 'uaa';
  subject: string;
  projectId?: string;
  issuedAt: number;
  expiresAt: number;
  methods?: string[];
  scope?: string[];
  clientId?: string;
}

export class TokenStore {
  readonly #clock: Clock;
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #refresh = new Map<string, { subject: string; clientId: string; scope: string[] }>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  issue(t: Omit<IssuedToken, 'token' | 'issuedAt' | 'expiresAt'>, ttlSeconds: number): IssuedToken {
    const now = this.#clock.now();
    const token = t.kind === 'keystone' ? `gAAAAA${randomBytes(48).toString('base64url')}` : `emu.${randomBytes(32).toString('base64url')}`;
    const rec: IssuedToken = { ...t, token, issuedAt: now, expiresAt: now + ttlSeconds * 1000 };
    this.#tokens.set(token, rec);
    if (this.#tokens.size > 50_000) {
      for (const [k, v] of this.#tokens) if (v.expiresAt < now) this.#tokens.delete(k);
    }
    return rec;
  }

  /** The token if it is known and not expired. */
  validate(token: string | undefined, kind: IssuedToken['kind']): IssuedToken | undefined {
    if (!token) return undefined;
    const t = this.#tokens.get(token);
    if (!t || t.kind !== kind) return undefined;
    if (t.expiresAt <= this.#clock.now()) return undefined;
    return t;
  }

  revoke(token: string): boolean {
    return this.#tokens.delete(token);
  }

  /** Expire every token of a kind now (tests of client-side renewal). Returns how many. */
  expireAll(kind?: IssuedToken['kind']): number {
    let n = 0;
    const now = this.#clock.now();
    for (const t of this.#tokens.values()) {
      if ((!kind || t.kind === kind) && t.expiresAt > now) {
        t.expiresAt = now;
        n++;
      }
    }
    return n;
  }

  newRefreshToken(subject: string, clientId: string, scope: string[]): string {
    const r = `${randomUUID().replace(/-/g, '')}-r`;
    this.#refresh.set(r, { subject, clientId, scope });
    return r;
  }

  useRefreshToken(r: string): { subject: string; clientId: string; scope: string[] } | undefined {
    return this.#refresh.get(r);
  }
}

/** Access keys accepted by the RFS / ROS signature verifiers. */
export class KeyRing {
  readonly #keys = new Map<string, string>();

  add(accessKeyId: string, secret: string): void {
    this.#keys.set(accessKeyId, secret);
  }

  remove(accessKeyId: string): void {
    this.#keys.delete(accessKeyId);
  }

  secret(accessKeyId: string): string | undefined {
    return this.#keys.get(accessKeyId);
  }
}
