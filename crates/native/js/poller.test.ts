import { expect, it } from 'vitest';
import { describeFd } from '../test/native-available.js';
import { DIST_ENTRY, distBuilt, runChild } from '../test/child.js';
import { closeFd, eventfdCreate, eventfdRead, eventfdWrite, type FdEvents, socketPair, watchFd } from './index.js';

const nextEvent = (into: FdEvents[]) =>
  new Promise<FdEvents>((resolve) => {
    const t = setInterval(() => {
      if (into.length) {
        clearInterval(t);
        resolve(into.shift()!);
      }
    }, 1);
  });
const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

describeFd('watchFd (epoll thread -> threadsafe function -> JS thread)', () => {
  it('a kick calls back once on the JS thread; reading it stops the callbacks', async () => {
    const kick = eventfdCreate();
    const seen: FdEvents[] = [];
    const w = watchFd(kick, (ev) => {
      seen.push(ev);
      eventfdRead(kick);
    });
    eventfdWrite(kick);
    expect(await nextEvent(seen)).toMatchObject({ readable: true, hangup: false, error: false });
    await settle();
    expect(seen).toHaveLength(0);
    eventfdWrite(kick, 2);
    expect((await nextEvent(seen)).readable).toBe(true);
    w.close();
    closeFd(kick);
  });

  it('a callback that does not read is called again (level semantics through re-arm)', async () => {
    const kick = eventfdCreate();
    let calls = 0;
    const w = watchFd(kick, () => {
      calls++;
      if (calls === 3) eventfdRead(kick);
    });
    eventfdWrite(kick);
    await settle(100);
    expect(calls).toBe(3);
    w.close();
    closeFd(kick);
  });

  it('no callback after close, even with an event already in flight', async () => {
    const kick = eventfdCreate();
    let calls = 0;
    const w = watchFd(kick, () => calls++);
    eventfdWrite(kick);
    // Give the epoll thread time to queue the event, then close before the loop delivers it.
    const until = Date.now() + 20;
    while (Date.now() < until) {
      /* block the JS thread: the event is queued, not delivered */
    }
    w.close();
    await settle();
    expect(calls).toBe(0);
    expect(w.active).toBe(false);
    closeFd(kick);
  });

  it('peer hang-up is reported', async () => {
    const [a, b] = socketPair();
    const seen: FdEvents[] = [];
    const w = watchFd(b, (ev) => {
      seen.push(ev);
      w.close();
    });
    closeFd(a);
    expect((await nextEvent(seen)).hangup).toBe(true);
    closeFd(b);
  });

  it('closeFd removes the watch first; watching one fd twice is refused', () => {
    const e = eventfdCreate();
    const w = watchFd(e, () => {});
    expect(() => watchFd(e, () => {})).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    closeFd(e);
    expect(w.active).toBe(false);
  });

  it.runIf(distBuilt || process.env.CI)('an unref\'d watch lets the process exit; a ref\'d one keeps it alive until closed', () => {
    expect(distBuilt, `${DIST_ENTRY} missing: build the package first`).toBe(true);
    const unref = runChild(`
      const e = native.eventfdCreate();
      native.watchFd(e, () => {});
      console.log('armed');`);
    expect(unref.status).toBe(0);
    expect(unref.stdout).toContain('armed');

    const refd = runChild(`
      const e = native.eventfdCreate();
      const w = native.watchFd(e, () => { native.eventfdRead(e); console.log('kicked'); w.close(); native.closeFd(e); }, { ref: true });
      setTimeout(() => native.eventfdWrite(e), 300).unref();
      console.log('armed');`);
    expect(refd.status).toBe(0);
    // Without the ref the process would have exited before the unref'd timer fired.
    expect(refd.stdout).toBe('armed\nkicked\n');
  });
});
