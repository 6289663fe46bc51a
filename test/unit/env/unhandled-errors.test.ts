import { describe, expect, it, vi } from 'vitest';
import { errors } from 'undici';
import { isUndiciIdleTeardown, onUnhandledError } from '../../env/unhandled-errors.ts';

// vitest hands the callback the error as serialized from the worker: own enumerable fields plus name
// and message, which is what a spread of the real error gives.
const asSerialized = (e: Error): { name: string; message: string; code?: unknown } => ({ ...e, name: e.name, message: e.message });

describe('the unhandled errors the test run tolerates', () => {
  it("tolerates only undici's idle-reaper InformationalError", () => {
    const idle = asSerialized(new errors.InformationalError('socket idle timeout'));
    // Kept out of the run's output: a CI log should show the warning only when the error really happened.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(isUndiciIdleTeardown(idle)).toBe(true);
    expect(onUnhandledError(idle)).toBe(false);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });

  it('fails the run on every other error, undici ones included', () => {
    const others = [
      new errors.InformationalError('HTTP/2: "GOAWAY" frame received with code 0'),
      new errors.SocketError('other side closed'),
      new errors.RequestAbortedError(),
      Object.assign(new Error('socket idle timeout'), { code: 'UND_ERR_INFO' }),
      new TypeError('x is undefined'),
    ].map(asSerialized);
    for (const e of others) {
      expect(isUndiciIdleTeardown(e), `${e.name}: ${e.message}`).toBe(false);
      expect(onUnhandledError(e)).toBeUndefined();
    }
  });
});
