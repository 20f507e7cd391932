/**
 * `tlsprobe capture` stays linear in the number of connections (issue 15): the work per connection
 * is counted, not timed (heap steps of the ordering and the row window, and the layout cost of every
 * table drawn: rows² for a cli-table3 table, rows for drawTable), on captures of N and 4N connections.
 * A view that sorts, scans or lays out all rows per connection makes the per-connection work grow
 * with N and fails here.
 */
import { describe, expect, it, vi } from 'vitest';
import { makePcap } from '../helpers/pcap-writer.js';
import type { Segment } from '../helpers/pcap-writer.js';
import { loadHexFixture } from '../helpers/fixtures.js';
import { run } from '../../src/cli/run.js';
import { createReportOrder } from '../../src/capture/report-order.js';
import { createRowWindow } from '../../src/report/row-window.js';

const work = vi.hoisted(() => ({ heapSteps: 0, layout: 0, peakHeld: -1 }));

// The most connections the last analysis held back to hand them on by index.
vi.mock('../../src/capture/sessions.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/capture/sessions.js')>();
  return {
    ...m,
    analyzeCapture: async (...args: Parameters<typeof m.analyzeCapture>) => {
      const r = await m.analyzeCapture(...args);
      work.peakHeld = r.stats.peakHeldConnections;
      return r;
    },
  };
});

vi.mock('../../src/capture/min-heap.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/capture/min-heap.js')>();
  return {
    ...m,
    createHeap: <T>(key: (t: T) => number, max?: boolean) =>
      m.createHeap<T>((t) => {
        work.heapSteps++;
        return key(t);
      }, max),
  };
});

vi.mock('../../src/report/table.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/report/table.js')>();
  return {
    ...m,
    renderTable: (head: readonly string[], rows: readonly (readonly (string | number | null)[])[]) => {
      work.layout += rows.length ** 2;
      return m.renderTable(head, rows);
    },
    // Linear by construction (one pass for the widths, one to draw): a row each.
    drawTable: (head: readonly string[], rows: readonly (readonly (string | number | null)[])[]) => {
      work.layout += rows.length;
      return m.drawTable(head, rows);
    },
  };
});

const hello = loadHexFixture('hello/openssl-s_client-tls12.hex');
const flight = loadHexFixture('server/openssl-s_server-tls12.hex');
/** RFC 5246, Section 7.2: fatal(2) handshake_failure(40). */
const alert = Uint8Array.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
/**
 * RFC 5246, Section 7.1: ChangeCipherSpec, then a protected record (the Finished, 40 opaque bytes):
 * the end of each side's handshake, so the connection counts as negotiated.
 */
const finish = Uint8Array.from([
  ...[0x14, 0x03, 0x03, 0x00, 0x01, 0x01],
  ...[0x16, 0x03, 0x03, 0x00, 0x28, ...new Array<number>(40).fill(7)],
]);

/** Returns a capture of `n` connections (client ports 1024…): one in four refused by an alert, the rest complete. */
function captureOf(n: number): Uint8Array {
  const segs: Segment[] = [];
  for (let i = 0; i < n; i++) {
    const clientPort = 1024 + i;
    segs.push({ fromClient: true, payload: hello, clientPort });
    if (i % 4 === 0) segs.push({ fromClient: false, payload: alert, clientPort });
    else {
      segs.push({ fromClient: false, payload: flight, clientPort });
      segs.push({ fromClient: true, payload: finish, clientPort });
      segs.push({ fromClient: false, payload: finish, clientPort });
    }
  }
  return new Uint8Array(makePcap(segs));
}

async function capture(file: Uint8Array, ...args: string[]): Promise<{ code: number; out: string }> {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const path = join(mkdtempSync(join(tmpdir(), 'tlsprobe-scale-')), 'flows.pcap');
  writeFileSync(path, file);
  const out: string[] = [];
  const ctx = { out: (t: string) => void out.push(t), err: () => {}, setExitCode: () => {}, isTty: false };
  const code = await run(['capture', path, ...args], ctx);
  return { code, out: out.join('\n') };
}

/** Returns the work per connection of `tlsprobe capture … args` on captures of `n` and `4n` connections. */
async function perConnection(n: number, args: readonly string[]): Promise<readonly [number, number]> {
  const out: number[] = [];
  for (const k of [n, 4 * n]) {
    const file = captureOf(k);
    work.heapSteps = 0;
    work.layout = 0;
    const r = await capture(file, ...args);
    expect(r.code).toBe(0);
    out.push((work.heapSteps + work.layout) / k);
  }
  return [out[0]!, out[1]!];
}

describe('tlsprobe capture at scale', { timeout: 300_000 }, () => {
  for (const args of [[], ['--rows', '50'], ['--rows', '0'], ['--json']]) {
    it(`does the same work per connection at N and 4N connections (${args.join(' ') || 'table'})`, async () => {
      const [small, large] = await perConnection(300, args);
      // Heaps bounded by the window and the row limit: a log factor at most, never a factor of 4.
      expect(large).toBeLessThan(small * 1.5 + 1);
    });
  }

  it('shows the failed connections first beyond the row limit, with a summary of the rest', async () => {
    const r = await capture(captureOf(40), '--rows', '10');
    const rows = r.out.split('\n').filter((l) => /^│ \d+ /.test(l));
    expect(rows).toHaveLength(10);
    // Cells wrap to the output width: the Outcome cell's first line starts with the outcome.
    expect(rows.every((l) => /│ alert\b/.test(l) && !/│ negotiated\b/.test(l))).toBe(true);
    expect(r.out).toMatch(/40 TLS connections in 40 TCP flows .*, 10 of 40 shown/);
    expect(r.out).toMatch(/outcomes: negotiated 30, alert 10/);
  });

  it('lists the rows by index when the connections end in another order', async () => {
    // Connection 0 (port 1024) starts first and ends last (RST): the table lists it first, whether
    // its rows are kept in the window (default, --rows 2) or printed as they come (--rows 0). The
    // window orders its rows itself, so the analysis holds back no connection that ended while 0 was
    // open; printed row by row, the 3 wait for it (4 held at the peak, 0 itself among them; a capture whose connections do not all end, a FIN
    // lost or the capture stopped, made the default table hold up to 8192 of them).
    const segs: Segment[] = [{ fromClient: true, payload: hello, clientPort: 1024 }];
    for (const clientPort of [1025, 1026, 1027]) {
      segs.push({ fromClient: true, payload: hello, clientPort });
      segs.push({ fromClient: false, payload: alert, clientPort });
      segs.push({ fromClient: true, payload: new Uint8Array(0), clientPort, rst: true });
    }
    segs.push({ fromClient: false, payload: alert, clientPort: 1024 });
    segs.push({ fromClient: true, payload: new Uint8Array(0), clientPort: 1024, rst: true });
    const file = new Uint8Array(makePcap(segs));
    const indexes = (out: string): number[] =>
      out
        .split('\n')
        .map((l) => /^│ (\d+) /.exec(l)?.[1])
        .filter((x) => x !== undefined)
        .map(Number);
    for (const rows of [[], ['--rows', '2'], ['--rows', '0']]) {
      const r = await capture(file, ...rows);
      expect(r.code).toBe(0);
      expect(indexes(r.out), rows.join(' ') || 'default').toEqual(rows[1] === '2' ? [0, 1] : [0, 1, 2, 3]);
      expect(work.peakHeld, rows.join(' ') || 'default').toBe(rows[1] === '0' ? 4 : 0);
    }
    await capture(file, '--json');
    expect(work.peakHeld).toBe(4);
    // --ndjson writes them as they end.
    const nd = await capture(file, '--ndjson');
    const ended = nd.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { connections: { index: number }[] }).connections[0]!.index);
    expect(ended).toEqual([1, 2, 3, 0]);
  });

  it('streams --json as the text JSON.stringify makes of the whole document', async () => {
    const r = await capture(captureOf(5), '--json');
    expect(r.out).toBe(JSON.stringify(JSON.parse(r.out), null, 2));
    const j = JSON.parse(r.out) as { connections: { index: number }[] };
    expect(j.connections.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('createReportOrder', () => {
  it('hands facts on by index, holding none longer than an earlier flow is open', () => {
    const seen: number[] = [];
    const order = createReportOrder<{ index: number }>((f) => seen.push(f.index));
    const t = [0, 1, 2, 3].map((i) => order.start(i));
    order.end(t[2]!, { index: 2 });
    order.end(t[1]!, null);
    expect(seen).toEqual([]);
    order.end(t[0]!, { index: 0 });
    expect(seen).toEqual([0, 2]);
    order.end(t[3]!, { index: 3 });
    expect(seen).toEqual([0, 2, 3]);
  });

  it('gives up the place of a flow open beyond the window, so what it holds stays bounded', () => {
    const seen: number[] = [];
    const order = createReportOrder<{ index: number }>((f) => seen.push(f.index), 8);
    const first = order.start(0);
    for (let i = 1; i <= 100; i++) order.end(order.start(i), { index: i });
    expect(order.peakHeld).toBeLessThanOrEqual(8);
    expect(order.givenUp).toBe(1);
    order.end(first, { index: 0 });
    order.finish();
    expect(seen).toHaveLength(101);
    expect(seen.slice(0, 90)).toEqual(Array.from({ length: 90 }, (_, i) => i + 1));
  });
});

describe('createRowWindow', () => {
  it('keeps the failed rows first, then the earliest, and counts the rest', () => {
    const w = createRowWindow<string>(3);
    for (let i = 0; i < 10; i++) w.add(i, i === 7 || i === 8, () => `row ${i}`);
    expect(w.rows()).toEqual(['row 0', 'row 7', 'row 8']);
    expect(w.dropped).toBe(7);
  });

  it('makes a row only when it keeps it, and keeps what keeping every row would', () => {
    // Random arrivals (not in index order, as with --ndjson's end order), failed or not, windows of
    // several sizes: the rows kept equal those of a reference that makes every row and cuts at the end.
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (const limit of [1, 2, 5, 50]) {
      const n = 200;
      const order = Array.from({ length: n }, (_, i) => i).sort(() => random() - 0.5);
      const failed = new Set(order.filter(() => random() < 0.2));
      const w = createRowWindow<number>(limit);
      let made = 0;
      for (const i of order)
        w.add(i, failed.has(i), () => {
          made++;
          return i;
        });
      const all = [...order].sort((a, b) => a - b);
      const expected = [...all.filter((i) => failed.has(i)), ...all.filter((i) => !failed.has(i))]
        .slice(0, limit)
        .sort((a, b) => a - b);
      expect(w.rows()).toEqual(expected);
      expect(w.dropped).toBe(n - limit);
      expect(made).toBeLessThan(n);
    }
    // In index order (the table's order), a window full of earlier rows makes no more rows.
    const inOrder = createRowWindow<number>(10);
    let made = 0;
    for (let i = 0; i < 1000; i++)
      inOrder.add(i, false, () => {
        made++;
        return i;
      });
    expect(made).toBe(10);
  });
});
