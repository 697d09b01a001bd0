// The DDNS pacer (src/ddns/pacer.ts): a worker starts at a trickle; under a DHCP load that fills the
// loop its job starts fall back to the trickle in one window and never to zero; with room again, or
// with no DHCP packet at all (a drain after a DNS outage), they grow back to unlimited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DdnsPacer, MIN_STARTS, WINDOW_MS } from '../../src/ddns/pacer';

/** A pacer on a hand-driven clock, packet counter and loop utilization. */
function bed() {
  const state = { now: 0, packets: 0, busy: 0 };
  const pacer = new DdnsPacer(
    () => state.packets,
    () => state.busy,
    () => state.now,
  );
  /** One window: `packets` DHCP packets arrive, the loop is `busy`, the worker takes what it may. */
  const window = (busy: number, packets: number, wanted = 1000): number => {
    state.busy = busy;
    state.packets += packets;
    state.now += WINDOW_MS;
    let taken = 0;
    while (taken < wanted && pacer.take()) taken++;
    return taken;
  };
  return { pacer, window, state };
}

test('a worker starts at the trickle, and a loop filled by DHCP packets cuts it back at once', () => {
  const { pacer, window } = bed();
  assert.equal(window(0.95, 600), MIN_STARTS, 'a fresh worker meets a load with no burst');
  const grown: number[] = [];
  for (let i = 0; i < 8; i++) grown.push(window(0.5, 600));
  assert.deepEqual(grown, [2, 4, 8, 16, 32, 64, 128, 1000], 'doubles while the loop has room, to unlimited');
  assert.equal(pacer.pacedPerSecond, null, 'then unlimited');
  assert.equal(window(0.2, 100, 400), 400);
  assert.equal(window(0.95, 600), MIN_STARTS, 'one busy window brings the trickle');
  assert.equal(pacer.pacedPerSecond, (MIN_STARTS * 1000) / WINDOW_MS);
  // A window whose utilization is between ROOM and BUSY keeps the allowance as it is.
  assert.equal(window(0.7, 600), MIN_STARTS);
  assert.equal(window(0.95, 600), MIN_STARTS, 'never less than the trickle');
});

test('room on the loop, or no DHCP load at all, grows the allowance back to unlimited', () => {
  const { pacer, window } = bed();
  window(0.95, 600);
  assert.equal(window(0.5, 600), 2, 'doubles when the loop has room');
  assert.equal(window(0.5, 600), 4);
  // A drain with no DHCP packet: a busy loop is the worker's own doing, and it may have it.
  let windows = 0;
  while (pacer.pacedPerSecond !== null && windows < 20) {
    window(1, 0);
    windows++;
  }
  assert.ok(windows <= 8, `unlimited again after ${windows} windows`);
  assert.equal(window(1, 0, 5000), 5000);
});

test('within a window the allowance is spent once, and waitMs says when the next one opens', () => {
  const { pacer, window, state } = bed();
  window(0.95, 600);
  // The window after the last one above: one start, then nothing until the window ends.
  state.now += WINDOW_MS;
  state.packets += 600;
  assert.equal(pacer.take(), true);
  assert.equal(pacer.mayStart(), false);
  state.now += 30;
  assert.equal(pacer.waitMs(), WINDOW_MS - 30);
  assert.equal(pacer.take(), false);
});
