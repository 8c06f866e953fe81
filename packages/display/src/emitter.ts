/**
 * A small typed event emitter that isolates listeners from each other, as the DOM's EventTarget
 * does: a listener that throws is reported to `onListenerError` and the remaining listeners still
 * run. That is dispatch policy, not the device's guard against a throwing sink (the device wraps
 * whatever sink it is given, a Display included); it also keeps a Display that some other
 * transport calls directly from throwing into it.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: (arg: never) => void }> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  /** @param onListenerError where listener exceptions go (default: console.error). */
  constructor(private readonly onListenerError: (err: unknown, event: string) => void = defaultListenerError) {}

  /** Subscribes `fn` to `event`; returns a function that unsubscribes it. */
  on<K extends keyof Events>(event: K, fn: Events[K]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn);
    return () => this.off(event, fn);
  }

  /** Subscribes `fn` for one call of `event`. */
  once<K extends keyof Events>(event: K, fn: Events[K]): () => void {
    const wrapped = ((arg: never) => {
      off();
      (fn as (a: never) => void)(arg);
    }) as Events[K];
    const off = this.on(event, wrapped);
    return off;
  }

  /** Unsubscribes `fn` from `event`. */
  off<K extends keyof Events>(event: K, fn: Events[K]): void {
    this.listeners.get(event)?.delete(fn);
  }

  /** Number of listeners on `event`. */
  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event` with `arg`. */
  protected emit<K extends keyof Events>(event: K, arg: Parameters<Events[K]>[0]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const fn of [...set]) {
      try {
        (fn as unknown as (a: unknown) => void)(arg);
      } catch (err) {
        this.onListenerError(err, String(event));
      }
    }
  }
}

function defaultListenerError(err: unknown, event: string): void {
  console.error(`@virtio-gpu/display: '${event}' listener threw`, err);
}
