/**
 * How early a Node timer may fire as `performance.now()` measures it: libuv runs timers against its
 * loop time, whole milliseconds read at the start of a loop iteration, so a 300 ms timeout can end an
 * exchange whose own clock says 299.8 ms (seen in a CI run of test/probe/transport.test.ts). A test
 * that a timeout came no sooner than its limit allows this much.
 */
export const TIMER_EARLY_MS = 1;
