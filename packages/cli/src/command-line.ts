/**
 * What every subcommand does with its command line and its end: strict option parsing with one
 * wording of a refusal, `--help`, and stopping on SIGINT/SIGTERM without leaving listeners behind.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliIo } from './cli-io.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type WithHelp<O extends Options> = O & { help: { type: 'boolean'; short: 'h' } };
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: WithHelp<O>; strict: true }>>['values'];

/**
 * Parses `args` strictly against `options` plus `-h/--help`. Returns the values, or the exit code
 * when there is nothing to run: 1 after printing the parser's complaint and `usage` to stderr, 0
 * after printing `usage` to stdout for `--help`.
 */
export function parseCommandLine<const O extends Options>(command: string, usage: string, options: O, args: string[], io: CliIo): Values<O> | number {
  let values: Values<O>;
  try {
    ({ values } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<O>, strict: true }));
  } catch (e) {
    io.stderr(`virtio-gpu ${command}: ${(e as Error).message}\n\n${usage}`);
    return 1;
  }
  if ((values as { help?: boolean }).help) {
    io.stdout(usage);
    return 0;
  }
  return values;
}

/** A signal that ends a subcommand. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Calls `stop` once on the first SIGINT or SIGTERM; the returned function removes the listeners. */
export function onStopSignal(stop: (signal: StopSignal) => void, signals: NodeJS.EventEmitter = process): () => void {
  const onInt = () => done('SIGINT');
  const onTerm = () => done('SIGTERM');
  const off = () => {
    signals.off('SIGINT', onInt);
    signals.off('SIGTERM', onTerm);
  };
  const done = (signal: StopSignal) => {
    off();
    stop(signal);
  };
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);
  return off;
}

/** Resolves with the signal that came first, or with 'timeout' after `timeoutS` seconds (default: never). */
export function untilStopped(timeoutS = Infinity, signals: NodeJS.EventEmitter = process): Promise<StopSignal | 'timeout'> {
  return new Promise((resolve) => {
    const timer = Number.isFinite(timeoutS) ? setTimeout(() => (off(), resolve('timeout')), timeoutS * 1000) : null;
    const off = onStopSignal((signal) => {
      if (timer) clearTimeout(timer);
      resolve(signal);
    }, signals);
  });
}
