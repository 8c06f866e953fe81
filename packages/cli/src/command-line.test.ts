import { EventEmitter } from 'node:events';
import { recordingIo } from './cli-io.js';
import { describe, expect, it } from 'vitest';
import { onStopSignal, parseCommandLine, untilStopped } from './command-line.js';

const OPTIONS = { size: { type: 'string' }, fast: { type: 'boolean' } } as const;

describe('parseCommandLine', () => {
  it('returns the values of known options', () => {
    const t = recordingIo();
    expect(parseCommandLine('x', 'USAGE', OPTIONS, ['--size', '3', '--fast'], t.io)).toEqual({ size: '3', fast: true });
    expect(t.out.concat(t.err)).toEqual([]);
  });

  it('an unknown option -> exit 1, the complaint and the usage on stderr', () => {
    const t = recordingIo();
    expect(parseCommandLine('x', 'USAGE', OPTIONS, ['--nope'], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/^virtio-gpu x: .*--nope[^]*\n\nUSAGE$/);
  });

  it.each([['--help'], ['-h']])('%s -> exit 0, the usage on stdout', (flag) => {
    const t = recordingIo();
    expect(parseCommandLine('x', 'USAGE', OPTIONS, [flag], t.io)).toBe(0);
    expect(t.out).toEqual(['USAGE']);
  });
});

describe('stopping', () => {
  it('untilStopped resolves with the first signal and leaves no listener', async () => {
    const signals = new EventEmitter();
    const stopped = untilStopped(Infinity, signals);
    signals.emit('SIGTERM');
    signals.emit('SIGINT');
    expect(await stopped).toBe('SIGTERM');
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('untilStopped resolves with timeout and leaves no listener', async () => {
    const signals = new EventEmitter();
    expect(await untilStopped(0.01, signals)).toBe('timeout');
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('onStopSignal calls once; its disposer removes the listeners', () => {
    const signals = new EventEmitter();
    const seen: string[] = [];
    onStopSignal((s) => seen.push(s), signals);
    signals.emit('SIGINT');
    signals.emit('SIGINT');
    expect(seen).toEqual(['SIGINT']);
    const off = onStopSignal((s) => seen.push(s), signals);
    off();
    signals.emit('SIGTERM');
    expect(seen).toEqual(['SIGINT']);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });
});
