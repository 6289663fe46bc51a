import { describe, expect, it } from 'vitest';
import { formatTextLine } from './log-format.ts';

describe('formatTextLine', () => {
  it('renders a pino JSON line as time, level, name, message and key=value fields', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-01-02T03:04:05.000Z', name: 'stack-operator', msg: 'stack-operator starting', workers: 10, namespaces: ['a'], note: 'two words' });
    expect(formatTextLine(line)).toBe('2026-01-02T03:04:05.000Z INFO  stack-operator: stack-operator starting workers=10 namespaces=["a"] note="two words"\n');
  });

  it('puts an error stack on indented lines and keeps non-JSON text as is', () => {
    const line = JSON.stringify({ level: 'error', time: 't', msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } });
    expect(formatTextLine(line)).toBe('t ERROR failed err=boom\n    Error: boom\n        at x\n');
    expect(formatTextLine('plain')).toBe('plain\n');
  });
});
