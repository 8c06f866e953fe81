/**
 * Rendering contexts (CTX_CREATE). The device keeps ids, capset ids and attached resources; the
 * renderer keeps the GPU side. Context id 0 is refused: hdr.ctx_id 0 means "no context" in every
 * other command, so a context 0 could never be addressed unambiguously.
 */

/** One live context. */
export interface ContextRecord {
  readonly id: number;
  /** Capset id from the low 8 bits of context_init (0: renderer default). */
  readonly capsetId: number;
  readonly debugName: string;
  /** Resources attached with CTX_ATTACH_RESOURCE. */
  readonly resources: Set<number>;
}

/** Contexts by id. */
export class ContextTable {
  private readonly byId = new Map<number, ContextRecord>();

  /** A context, or undefined. */
  get(id: number): ContextRecord | undefined {
    return this.byId.get(id);
  }

  /** Number of live contexts. */
  get count(): number {
    return this.byId.size;
  }

  /** Insert. */
  add(c: ContextRecord): void {
    this.byId.set(c.id, c);
  }

  /** Remove. */
  remove(id: number): void {
    this.byId.delete(id);
  }

  /** Every context. */
  all(): IterableIterator<ContextRecord> {
    return this.byId.values();
  }

  /** Forget everything. */
  clear(): void {
    this.byId.clear();
  }
}
