// TLS settings for provider connections. A caBundle ADDS to Node's bundled roots (the CRD field
// says "in addition to the system roots"): passing `ca` alone to TLS would replace them.
import { rootCertificates } from 'node:tls';

export interface TlsSettings {
  caBundle?: string;
  insecureSkipVerify?: boolean;
}

/** Options for tls.connect (undici `connect` / `requestTls`). Pure (tested). */
export function tlsConnectOptions(tls: TlsSettings | undefined): { ca?: string[]; rejectUnauthorized: boolean } {
  const ca = tls?.caBundle?.trim() ? [...rootCertificates, tls.caBundle] : undefined;
  return { ...(ca ? { ca } : {}), rejectUnauthorized: tls?.insecureSkipVerify !== true };
}
