import { describe, expect, it } from 'vitest';
import { LAYOUTS, OFFSET_TABLES } from './layouts.js';

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe('offset tables', () => {
  it('exist for every struct in LAYOUTS', () => {
    expect(Object.keys(OFFSET_TABLES).sort()).toEqual(Object.keys(LAYOUTS).sort());
  });

  for (const [name, table] of Object.entries(OFFSET_TABLES)) {
    it(`${name}: SIZE and every member offset match LAYOUTS`, () => {
      const layout = LAYOUTS[name];
      expect(table.SIZE).toBe(layout.size);
      const members = new Set(Object.keys(layout.fields).map((f) => f.split('.')[0]));
      const keys = Object.keys(table).filter((k) => k !== 'SIZE');
      expect(keys.map(snake).sort()).toEqual([...members].sort());
      for (const key of keys) {
        const c = snake(key);
        const offsets = Object.entries(layout.fields)
          .filter(([f]) => f === c || f.startsWith(`${c}.`))
          .map(([, l]) => l.offset);
        expect(table[key], `${name}.${key}`).toBe(Math.min(...offsets));
      }
    });
  }
});

describe('LAYOUTS', () => {
  it('dots nested structs and keeps arrays whole', () => {
    expect(LAYOUTS.virtio_gpu_resource_flush.fields['r.width']).toEqual({ offset: 32, size: 4 });
    expect(LAYOUTS.virtio_gpu_update_cursor.fields['pos.scanout_id']).toEqual({ offset: 24, size: 4 });
    expect(LAYOUTS.virtio_gpu_transfer_host_3d.fields['box.d']).toEqual({ offset: 44, size: 4 });
    expect(LAYOUTS.virtio_gpu_set_scanout_blob.fields.strides).toEqual({ offset: 64, size: 16 });
    expect(LAYOUTS.virtio_gpu_resp_display_info.fields.pmodes).toEqual({ offset: 24, size: 384 });
    expect(LAYOUTS.virtio_gpu_resp_capset.fields.capset_data).toEqual({ offset: 24, size: 0 });
  });
});
