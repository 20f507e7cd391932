#!/usr/bin/env node
// `npm run fuzz`: the long fuzz run (issue 8). Runs the same properties as the normal suite
// (test/fuzz/parsers.test.ts: every parser fed random bytes and mutations of fixtures/ and
// ../shared/corpus) with a far larger budget and a fresh seed, then prints the inputs run and the
// inputs per second of each parser. Issue 14 added the parsers of outside input (test/fuzz/outside-targets.ts):
// proxy replies, every STARTTLS dialogue, analyzeCapture end to end, the captured-hello reader.
// `--runs 1000000` runs a million inputs per target (analyzeCapture, the slowest, does ~500/s).
// A failure prints the shrunk input, the seed and the replay path; with --save the input is also
// written to fixtures/crashers/ (describe the fix in its `# fixed:` line before committing).
//
// Usage: npm run fuzz -- [--runs N] [--seed S] [--only TARGET] [--save]
//   --runs N      inputs per parser (default 100000; the normal suite runs 300 to 3000)
//   --seed S      fast-check seed (default: random, printed so a failure can be replayed)
//   --only NAME   only this target (decodeStream, deframer, parseHandshakeMessage, readExtension,
//                 sslv2, parseCertificate, checkChain, pemToDer, captureParser, decodePacket,
//                 tcpReassembly, parseRegistryText, parseKeyLog, scanClientHello, httpConnectReply,
//                 socks5Reply, starttls-smtp, starttls-imap, starttls-pop3, starttls-ftp, starttls-ldap,
//                 starttls-postgres, starttls-xmpp, readLdapExtendedResponse, analyzeCapture,
//                 capturedHelloFromBytes, findCapturedHello)
//   --save        write each crasher to fixtures/crashers/<target>-<hash>.hex
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usage as sharedUsage } from './lib/usage.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function usage(problem) {
  sharedUsage(import.meta.url, 'fuzz', problem);
}

/** @type {{ runs: number, seed: number, only: string | null, save: boolean }} */
const opts = { runs: 100_000, seed: randomInt(0, 2 ** 31 - 1), only: null, save: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const num = (name) => {
    const v = Number(argv[++i]);
    if (!Number.isSafeInteger(v) || v < 0) usage(`${name} takes a non-negative integer`);
    return v;
  };
  if (a === '--runs') opts.runs = num('--runs');
  else if (a === '--seed') opts.seed = num('--seed');
  else if (a === '--only') opts.only = argv[++i] ?? usage('--only takes a target name');
  else if (a === '--save') opts.save = true;
  else if (a === '--help' || a === '-h') usage(null);
  else usage(`unknown option ${a}`);
}
if (opts.runs < 1) usage('--runs must be at least 1');

console.log(`fuzz: ${opts.runs} inputs per parser, seed ${opts.seed}${opts.only ? `, only ${opts.only}` : ''}`);
console.log(
  `fuzz: replay with: npm run fuzz -- --runs ${opts.runs} --seed ${opts.seed}${opts.only ? ` --only ${opts.only}` : ''}`,
);
const args = [
  join(REPO, 'node_modules/vitest/vitest.mjs'),
  'run',
  'test/fuzz/parsers.test.ts',
  '--reporter=verbose',
  '--testTimeout=0',
];
// The crasher regressions always run first; --only narrows the fuzzing to one target plus the summary.
if (opts.only) args.push('-t', `crasher|${opts.only} lets|summary`);
const t0 = Date.now();
const child = spawn(process.execPath, args, {
  cwd: REPO,
  stdio: 'inherit',
  env: {
    ...process.env,
    TLSPROBE_FUZZ_RUNS: String(opts.runs),
    ...(opts.only ? { TLSPROBE_FUZZ_ONLY: opts.only } : {}),
    TLSPROBE_FUZZ_SEED: String(opts.seed),
    TLSPROBE_FUZZ_SUMMARY: '1',
    ...(opts.save ? { TLSPROBE_FUZZ_SAVE: '1' } : {}),
  },
});
child.once('exit', (code, signal) => {
  console.log(
    `fuzz: ${code === 0 ? 'no crasher' : 'FAILED'} after ${((Date.now() - t0) / 1000).toFixed(0)} s (seed ${opts.seed})`,
  );
  process.exitCode = code ?? (signal ? 1 : 0);
});
