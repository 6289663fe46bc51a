// Which endpoints a provider object may use: plain http:// only when the object says
// spec.allowPlainHTTP: true (credentials and signatures would cross the network in clear text;
// docs/security.md). Checked when the client is built (so the Stack stalls with a clear message)
// and again on every request (endpoints found in a Keystone catalog or a CF root document).
import type { ResolvedProviderConfig } from './config.ts';
import { ProviderError } from './types.ts';

/** The configured endpoint URLs of a provider config, by spec path. Pure. */
export function configuredEndpoints(config: ResolvedProviderConfig): Array<[string, string]> {
  const all: Array<[string, string | undefined]> = [];
  switch (config.type) {
    case 'heat':
      all.push(['spec.heat.authUrl', config.heat.authUrl], ['spec.heat.endpoint', config.heat.endpoint]);
      break;
    case 'rfs':
      all.push(['spec.rfs.endpoint', config.rfs.endpoint]);
      break;
    case 'ros':
      all.push(['spec.ros.endpoint', config.ros.endpoint]);
      break;
    case 'cloudfoundry':
      all.push(['spec.cloudFoundry.apiUrl', config.cloudFoundry.apiUrl], ['spec.cloudFoundry.uaaUrl', config.cloudFoundry.uaaUrl]);
      break;
  }
  return all.filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
}

export function plainHttpRefused(url: string, field: string): ProviderError {
  return new ProviderError(
    'Invalid',
    `${field} is a plain http:// URL (${new URL(url).origin}): credentials would be sent unencrypted; use https, or set spec.allowPlainHTTP: true on the provider (emulators and tests only)`,
    { code: 'PlainHTTPRefused', field: 'spec.allowPlainHTTP' },
  );
}

/** Throws ProviderError Invalid when the config names an http:// endpoint without allowPlainHTTP. */
export function validateProviderEndpoints(config: ResolvedProviderConfig): void {
  if (config.allowPlainHTTP === true) return;
  for (const [field, url] of configuredEndpoints(config)) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new ProviderError('Invalid', `${field} is not a URL`, { code: 'InvalidEndpoint', field });
    }
    if (protocol === 'http:') throw plainHttpRefused(url, field);
    if (protocol !== 'https:') throw new ProviderError('Invalid', `${field} must be an https URL (got ${protocol})`, { code: 'InvalidEndpoint', field });
  }
}
