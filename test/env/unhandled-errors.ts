// The one unhandled error the test process tolerates (docs/test-environment.md, "Unhandled errors").
// undici's HTTP/2 idle reaper (its HTTP/2 client's `onHttp2SessionIdleTimeout`) destroys a session's
// socket with this InformationalError once no request is open on it; Node then destroys every stream
// still registered on the session with it. A stream undici already released but Node had not yet torn
// down can be left without an 'error' listener, so the error surfaces as uncaught.
// No request of a test can be affected (the session had none open), so it is reported, not failed on.
// Anything else, including every other undici error, still fails the run.

export interface UnhandledError {
  name?: string;
  message?: string;
  code?: unknown;
}

export function isUndiciIdleTeardown(error: UnhandledError): boolean {
  return error.name === 'InformationalError' && error.code === 'UND_ERR_INFO' && error.message === 'socket idle timeout';
}

/** vitest's `onUnhandledError`: `false` drops the error from the run's failures. */
export function onUnhandledError(error: UnhandledError): boolean | void {
  if (!isUndiciIdleTeardown(error)) return;
  console.warn("[unhandled-errors] undici's HTTP/2 idle reaper: 'socket idle timeout' on a session with no open request (not a test failure)");
  return false;
}
