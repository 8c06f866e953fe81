/** What a subcommand may touch, so tests and embedders can run it without a process. */
export interface CliIo {
  /** All of stdin. */
  stdin: () => Promise<Uint8Array>;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Reads a file; defaults to node:fs. */
  readFile?: (path: string) => Promise<Uint8Array>;
}

/** A CliIo with empty stdin that keeps what a subcommand writes, chunk by chunk. */
export function recordingIo(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdin: async () => new Uint8Array(0), stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) } };
}
