// A workload for `node --cpu-prof` (run by `npm run bench -- --profile`): loops only our own code on
// the bench inputs for a fixed time, so the profile shows the parser hot path and nothing else.
// Usage: node --cpu-prof bench/lib/profile-target.mjs cert|hello|stream [seconds]
import { lib, readCertList, readMessages, readPemDer } from './env.mjs';

const workload = process.argv[2];
const seconds = Number(process.argv[3] ?? 3);

async function makeLoop() {
  if (workload === 'cert') {
    const { parseCertificate } = await lib('x509/der.js');
    const ders = readCertList().map((c) => readPemDer(c.file));
    return () => {
      let n = 0;
      for (const der of ders) {
        const c = parseCertificate(der);
        n +=
          c.subject.rfc4514.length +
          c.issuer.rfc4514.length +
          (c.notBefore < c.notAfter ? 1 : 0) +
          c.sha1.length +
          c.sha256.length;
      }
      return n;
    };
  }
  if (workload === 'hello') {
    const { parseClientHello } = await lib('tls/client-hello.js');
    const { parseServerHello } = await lib('tls/server-hello.js');
    const m = readMessages();
    const chs = m.clientHellos.map((x) => x.message);
    const shs = m.serverFlights.map((x) => x.serverHello);
    return () => {
      let n = 0;
      for (const b of chs) n += parseClientHello(b).cipherSuites.length;
      for (const b of shs) n += parseServerHello(b).cipherSuite;
      return n;
    };
  }
  if (workload === 'stream') {
    const { decodeStream } = await lib('tls/stream.js');
    const m = readMessages();
    const streams = [...m.clientHellos.map((x) => x.records), ...m.serverFlights.map((x) => x.records)];
    return () => {
      let n = 0;
      for (const b of streams) n += decodeStream(b).length;
      return n;
    };
  }
  throw new Error(`unknown workload ${workload}: use cert, hello or stream`);
}

const loop = await makeLoop();
let sink = 0;
let rounds = 0;
const end = performance.now() + seconds * 1e3;
while (performance.now() < end) {
  for (let i = 0; i < 100; i++) sink = (sink + loop()) | 0;
  rounds += 100;
}
console.log(JSON.stringify({ workload, rounds, sink }));
