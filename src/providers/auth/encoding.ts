// RFC 3986 percent-encoding (unreserved A-Z a-z 0-9 - _ . ~ kept, upper-case hex), as both the
// Huawei and the Alibaba signers require (encodeURIComponent leaves ! ' ( ) * alone; these don't).
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
