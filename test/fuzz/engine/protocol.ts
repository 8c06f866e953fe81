/** Messages between the fuzz engine's main thread (cli.ts) and its worker (worker.ts). */

/** What a fuzz target module exports. */
export interface FuzzTarget {
  /** Run one input. Throwing (or rejecting) is a finding. */
  fuzz(data: Uint8Array): void | Promise<void>;
  /** Longest input the mutator makes (default 4096). */
  maxLen?: number;
  /** Tokens for the mutator: numbers become le32. */
  dictionary?: readonly (number | Uint8Array)[];
}

/** The worker's start parameters. */
export interface WorkerConfig {
  targetName: string;
  /** The instrumented bundle to require. */
  targetPath: string;
  seeds: Uint8Array[];
  seed: number;
  /** Stop after this long (ms) or this many runs, whichever comes first. */
  timeMs: number;
  maxRuns: number;
  /** false: keep nothing, mutate only the seeds (the unguided baseline for comparisons). */
  feedback: boolean;
  /** Int32 [runs, inputLength] then the current input's bytes (for hangs and OOMs). */
  current: SharedArrayBuffer;
  /** Run each seed once, report per-input features (corpus minimisation), then stop. */
  merge: boolean;
}

/** Coverage numbers at a point of the run. */
export interface Stats {
  runs: number;
  ms: number;
  corpus: number;
  /** Counters hit so far / all counters. */
  covered: number;
  counters: number;
  features: number;
}

export type WorkerMessage =
  | { kind: 'new'; input: Uint8Array; stats: Stats }
  | { kind: 'stats'; stats: Stats }
  | { kind: 'crash'; input: Uint8Array; error: string; stats: Stats }
  | { kind: 'merge'; index: number; features: number[] }
  | { kind: 'done'; stats: Stats };

/** The coverage object's global name (istanbul's coverageVariable). */
export const COVERAGE_VAR = '__fuzzCoverage';

/** Header words of WorkerConfig.current. */
export const CURRENT_HEADER_BYTES = 8;
