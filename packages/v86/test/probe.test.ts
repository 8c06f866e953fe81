import { it } from 'vitest';
import { bootLinux } from '../src/node.js';
it('probe', async () => {
  const t0 = Date.now();
  const g = await bootLinux({ virtioGpu: process.env.NOGPU ? false : true, kernel: '/work/wt-v86/.cache/guest-v86/bzImage', initrd: '/work/wt-v86/.cache/guest-v86/initrd.cpio.gz', append: 'console=ttyS0 guest.mode=test', onSerial: (c) => process.stdout.write(c) });
  const iv = setInterval(() => console.log('t', (Date.now()-t0)/1000, g.serial().length, g.gpu?.stats), 5000);
  try {
    await g.waitFor('pattern drawn', 60000);
    console.log('\nDONE in', (Date.now() - t0) / 1000, 's', g.gpu?.stats);
  } finally { clearInterval(iv); await g.stop(); }
}, 150000);
