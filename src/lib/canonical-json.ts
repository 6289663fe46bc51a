// JSON with object keys sorted (and undefined members dropped), so equal values serialize, hash and
// compare equally whatever their key order. A leaf module: it imports nothing of the project.
//
// safe-stable-stringify (already pino's) does the work: about 3 times faster than the map / sort / join
// version this replaced, which was most of the desired-state hash every reconcile computes, resyncs
// included (docs/benchmarks.md). Its output is byte-for-byte that version's for JSON data; the hash of
// every existing Stack depends on that, and lib.test.ts checks it against the old version as an oracle.
import { configure } from 'safe-stable-stringify';

const stringify = configure({ deterministic: true, circularValue: TypeError, bigint: false });

export function canonicalJson(value: unknown): string {
  return stringify(value) ?? 'null';
}

/** Deep equality of JSON-like values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
