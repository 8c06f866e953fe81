/**
 * Rate-limited logging. A guest can trigger a log line with every bad command it sends, so lines
 * past the per-second budget are dropped and counted; the count is reported with the next line
 * that gets through.
 */

/** Severity of a log line. */
export type LogLevel = 'debug' | 'warn' | 'error';

/** Where the device's log lines go; the embedder decides (console, a file, nothing). */
export type LogSink = (level: LogLevel, message: string) => void;

/** A token bucket in front of a {@link LogSink}. */
export class RateLimitedLog {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  /**
   * @param sink where lines go; `undefined` drops everything
   * @param perSecond lines allowed per one-second window
   * @param now clock in milliseconds (injectable for tests)
   */
  constructor(
    private readonly sink: LogSink | undefined,
    private readonly perSecond: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Log a line if the budget allows; otherwise count it as suppressed. */
  log(level: LogLevel, message: string): void {
    if (!this.sink) return;
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.suppressed++;
      return;
    }
    this.inWindow++;
    if (this.suppressed > 0) {
      const n = this.suppressed;
      this.suppressed = 0;
      this.sink('warn', `virtio-gpu: ${n} log line(s) suppressed`);
    }
    this.sink(level, message);
  }

  /** Lines dropped since the last one that got through. */
  get suppressedCount(): number {
    return this.suppressed;
  }
}
