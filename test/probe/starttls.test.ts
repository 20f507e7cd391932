/**
 * STARTTLS against small scripted loopback servers, one per protocol: each speaks the plain-text
 * part of its protocol (from the RFC), then hands the socket to a Node tls.Server, as the lab does
 * (`tlsServer.emit('connection', socket)`). openssl s_client -starttls is the oracle: it must get a
 * TLS handshake from every scripted server, and for the binary protocols it must send the same
 * bytes we send.
 */
import { spawn } from 'node:child_process';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { type TLSSocket, type Server as TlsServer, createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLabPki, type LabPki } from '../../src/lab/pki.js';
import { attempt } from '../../src/probe/attempt.js';
import {
  LDAP_STARTTLS_OID,
  STARTTLS_MAX_BYTES,
  STARTTLS_MAX_LINE_BYTES,
  STARTTLS_PROTOCOLS,
  encodeLdapStartTls,
  encodePostgresSslRequest,
  encodeXmppStreamHeader,
  parseStarttlsProtocol,
  readLdapExtendedResponse,
  type StarttlsProtocol,
} from '../../src/probe/starttls.js';
import { exchange } from '../../src/probe/transport.js';
import { startHttpConnectProxy } from '../helpers/proxies.js';
import { HAS_OPENSSL, NO_OPENSSL } from '../helpers/servers.js';
import { TIMER_EARLY_MS } from '../helpers/timers.js';

let pki: LabPki;
beforeAll(async () => {
  pki = await generateLabPki({ keyAlgorithm: 'ecdsa-p256' });
});

type Behaviour = 'accept' | 'refuse';

interface ScriptedServer {
  readonly port: number;
  /** Everything each client sent before TLS started, in order of connection. */
  readonly plain: Buffer[];
  /** TLS versions of the handshakes the TLS server completed. */
  readonly completed: string[];
  close(): Promise<void>;
}

/** X.690 BER TLV with a definite short-form length (enough for these small test messages). */
function ber(tag: number, content: Buffer): Buffer {
  if (content.length > 127) throw new Error('test BER helper: short form only');
  return Buffer.concat([Buffer.from([tag, content.length]), content]);
}

/**
 * RFC 4511, Section 4.12: an LDAPMessage with an ExtendedResponse (resultCode, matchedDN,
 * diagnosticMessage, and for success the responseName [10] as OpenLDAP sends it).
 */
function ldapExtendedResponse(messageId: number, resultCode: number, diagnostic: string): Buffer {
  const parts = [ber(0x0a, Buffer.from([resultCode])), ber(0x04, Buffer.alloc(0)), ber(0x04, Buffer.from(diagnostic))];
  if (resultCode === 0) parts.push(ber(0x8a, Buffer.from(LDAP_STARTTLS_OID)));
  return ber(0x30, Buffer.concat([ber(0x02, Buffer.from([messageId])), ber(0x78, Buffer.concat(parts))]));
}

/** What each scripted server says when it refuses, for the assertions. */
const REFUSALS: Record<StarttlsProtocol, string> = {
  smtp: '454 4.7.0 TLS not available due to local problem',
  imap: 'NO [UNAVAILABLE] TLS is not configured',
  pop3: '-ERR TLS not available',
  ftp: '534 Local policy on server does not allow TLS',
  ldap: 'resultCode 53 (unwillingToPerform): TLS is not configured',
  postgres: 'N: the server does not accept SSL connections',
  xmpp: "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
};

/**
 * Starts a scripted server for `protocol`: the plain-text part (from the RFC; it also answers the
 * extra commands openssl s_client sends: IMAP CAPABILITY, POP3 CAPA), then TLS 1.2/1.3 on the lab chain.
 */
async function scriptedServer(protocol: StarttlsProtocol, behaviour: Behaviour): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const plain: Buffer[] = [];
  const completed: string[] = [];
  const tlsServer: TlsServer = createTlsServer({
    key: pki.leaf.keyPem,
    cert: pki.chainPem,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
  });
  tlsServer.on('secureConnection', (t: TLSSocket) => {
    completed.push(t.getProtocol() ?? '?');
    t.on('error', () => {});
    t.end();
  });
  tlsServer.on('tlsClientError', (_e: Error, t: TLSSocket) => t.destroy());

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    const index = plain.push(Buffer.alloc(0)) - 1;
    let buf = Buffer.alloc(0);
    const handOff = (reply: string | Buffer, rest: Buffer): void => {
      socket.removeListener('data', onData);
      socket.write(reply);
      if (rest.length > 0) socket.unshift(rest);
      tlsServer.emit('connection', socket);
    };
    const refuse = (reply: string | Buffer): void => {
      socket.removeListener('data', onData);
      socket.end(reply);
      socket.resume();
    };
    /** Takes complete lines off `buf` and answers each. */
    const lines = (answer: (line: string, rest: Buffer) => boolean | undefined): void => {
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        buf = buf.subarray(nl + 1);
        if (answer(line, buf) === true) return;
      }
    };
    const onData = (d: Buffer): void => {
      plain[index] = Buffer.concat([plain[index]!, d]);
      buf = Buffer.concat([buf, d]);
      switch (protocol) {
        case 'smtp':
          // RFC 5321, Section 4.1.1.1 (EHLO) and RFC 3207, Section 4 (STARTTLS).
          lines((line, rest) => {
            if (/^EHLO /i.test(line))
              socket.write('250-mail.test greets you\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n');
            else if (/^STARTTLS$/i.test(line)) {
              if (behaviour === 'accept') handOff('220 2.0.0 Ready to start TLS\r\n', rest);
              else refuse(`${REFUSALS.smtp}\r\n`);
              return true;
            } else socket.write('500 5.5.2 Error: command not recognized\r\n');
          });
          return;
        case 'ftp':
          // RFC 4217, Section 4.
          lines((line, rest) => {
            if (/^AUTH TLS$/i.test(line)) {
              if (behaviour === 'accept') handOff('234 AUTH TLS successful\r\n', rest);
              else refuse(`${REFUSALS.ftp}\r\n`);
              return true;
            }
            socket.write('500 Unknown command\r\n');
          });
          return;
        case 'imap':
          // RFC 9051, Section 6.1.1 (CAPABILITY) and 6.2.1 (STARTTLS).
          lines((line, rest) => {
            const [tag, command] = line.split(' ');
            if (/^CAPABILITY$/i.test(command ?? ''))
              socket.write(`* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n${tag} OK CAPABILITY completed\r\n`);
            else if (/^STARTTLS$/i.test(command ?? '')) {
              if (behaviour === 'accept') handOff(`${tag} OK Begin TLS negotiation now\r\n`, rest);
              else refuse(`${tag} ${REFUSALS.imap}\r\n`);
              return true;
            } else socket.write(`${tag} BAD unknown command\r\n`);
          });
          return;
        case 'pop3':
          // RFC 2449, Section 5 (CAPA) and RFC 2595, Section 4 (STLS).
          lines((line, rest) => {
            if (/^CAPA$/i.test(line)) socket.write('+OK Capability list follows\r\nSTLS\r\nUSER\r\n.\r\n');
            else if (/^STLS$/i.test(line)) {
              if (behaviour === 'accept') handOff('+OK Begin TLS negotiation\r\n', rest);
              else refuse(`${REFUSALS.pop3}\r\n`);
              return true;
            } else socket.write('-ERR unknown command\r\n');
          });
          return;
        case 'ldap': {
          // RFC 4511, Section 4.14: a whole LDAPMessage (short-form lengths from these clients).
          if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
          const rest = buf.subarray(2 + buf[1]!);
          const messageId = buf[4]!;
          if (behaviour === 'accept') handOff(ldapExtendedResponse(messageId, 0, ''), rest);
          else refuse(ldapExtendedResponse(messageId, 53, 'TLS is not configured'));
          return;
        }
        case 'postgres':
          // PostgreSQL protocol, "SSLRequest": 8 bytes, answered with one byte.
          if (buf.length < 8) return;
          if (behaviour === 'accept') handOff(Buffer.from('S'), buf.subarray(8));
          else refuse(Buffer.from('N'));
          return;
        case 'xmpp': {
          // RFC 6120, Sections 4.7 and 5.4.
          const text = buf.toString('latin1');
          if (text.includes('<stream:stream') && !text.includes('<starttls') && text.endsWith('>')) {
            buf = Buffer.alloc(0);
            socket.write(
              "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='t1' from='example.net' version='1.0'>" +
                "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
            );
            return;
          }
          const m = /<starttls[^>]*\/>/.exec(text);
          if (m) {
            if (behaviour === 'accept')
              handOff("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", buf.subarray(m.index + m[0].length));
            else refuse(`${REFUSALS.xmpp}</stream:stream>`);
          }
          return;
        }
      }
    };
    socket.on('data', onData);
    // Server-first protocols greet on connect.
    const greeting: Partial<Record<StarttlsProtocol, string>> = {
      smtp: '220 mail.test ESMTP tlsprobe scripted server\r\n',
      // RFC 959, Section 4.2: a multi-line reply, "220-" lines then "220 ".
      ftp: '220-Welcome to the scripted FTP server\r\n220-Second line of the banner\r\n220 Ready\r\n',
      imap: '* OK [CAPABILITY IMAP4rev1 STARTTLS] scripted IMAP ready\r\n',
      pop3: '+OK scripted POP3 ready\r\n',
    };
    const g = greeting[protocol];
    if (g !== undefined) socket.write(g);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    plain,
    completed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The STARTTLS command each protocol's client sends, as a line or bytes. */
const COMMANDS: Record<StarttlsProtocol, (plain: Buffer) => boolean> = {
  smtp: (p) => /\r\nSTARTTLS\r\n$/.test(p.toString('latin1')) && /^EHLO \S+\r\n/.test(p.toString('latin1')),
  imap: (p) => /^\S+ STARTTLS\r\n$/m.test(p.toString('latin1')),
  pop3: (p) => /(^|\r\n)STLS\r\n$/.test(p.toString('latin1')),
  ftp: (p) => p.toString('latin1') === 'AUTH TLS\r\n',
  ldap: (p) => p.equals(Buffer.from(encodeLdapStartTls())),
  postgres: (p) => p.equals(Buffer.from(encodePostgresSslRequest())),
  xmpp: (p) =>
    p
      .toString('latin1')
      .startsWith(
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='localhost' version='1.0'>",
      ) && p.toString('latin1').endsWith("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
};

function target(port: number) {
  return { host: 'localhost', address: '127.0.0.1', port };
}

describe('parseStarttlsProtocol', () => {
  it('accepts every protocol name in any case', () => {
    for (const p of STARTTLS_PROTOCOLS) expect(parseStarttlsProtocol(p.toUpperCase())).toBe(p);
  });

  it('rejects an unknown protocol with the list of choices', () => {
    expect(() => parseStarttlsProtocol('smtps')).toThrow(/smtp, imap, pop3, ftp, ldap, postgres, xmpp/);
  });
});

describe('LDAP StartTLS encoding', () => {
  it('encodes the ExtendedRequest of RFC 4511, Section 4.14.1 with message ID 1', () => {
    // SEQUENCE { INTEGER 1, [APPLICATION 23] { [0] "1.3.6.1.4.1.1466.20037" } }
    const oid = Buffer.from('1.3.6.1.4.1.1466.20037');
    expect(Buffer.from(encodeLdapStartTls()).toString('hex')).toBe(
      Buffer.concat([Buffer.from([0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16]), oid]).toString('hex'),
    );
  });

  it('reads a response only once it is whole, and keeps resultCode and diagnosticMessage', () => {
    const refusal = ldapExtendedResponse(1, 53, 'TLS is not configured');
    for (let i = 0; i < refusal.length; i++)
      expect(readLdapExtendedResponse(refusal.subarray(0, i)), `prefix ${i}`).toBeNull();
    expect(readLdapExtendedResponse(refusal)).toEqual({
      messageId: 1,
      resultCode: 53,
      diagnosticMessage: 'TLS is not configured',
      length: refusal.length,
    });
    const success = ldapExtendedResponse(1, 0, '');
    expect(readLdapExtendedResponse(Buffer.concat([success, Buffer.from([0x16, 0x03])]))).toMatchObject({
      resultCode: 0,
      length: success.length,
    });
  });

  it('rejects an indefinite length (RFC 4511, Section 5.1) and a response that is not an ExtendedResponse', () => {
    expect(() => readLdapExtendedResponse(Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01]))).toThrow(/indefinite/);
    const bindResponse = ber(
      0x30,
      Buffer.concat([
        ber(0x02, Buffer.from([1])),
        ber(0x61, Buffer.concat([ber(0x0a, Buffer.from([0])), ber(0x04, Buffer.alloc(0)), ber(0x04, Buffer.alloc(0))])),
      ]),
    );
    expect(() => readLdapExtendedResponse(bindResponse)).toThrow(/extendedResp/);
  });
});

describe('the PostgreSQL SSLRequest', () => {
  it('is Int32 8 then Int32 80877103 (1234 << 16 | 5679)', () => {
    expect([...encodePostgresSslRequest()]).toEqual([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    expect((1234 << 16) | 5679).toBe(80877103);
  });
});

for (const protocol of STARTTLS_PROTOCOLS) {
  describe(`STARTTLS ${protocol}`, () => {
    let accepting: ScriptedServer;
    let refusing: ScriptedServer;
    beforeAll(async () => {
      accepting = await scriptedServer(protocol, 'accept');
      refusing = await scriptedServer(protocol, 'refuse');
    });
    afterAll(async () => {
      await accepting?.close();
      await refusing?.close();
    });

    it('negotiates TLS 1.2 after the dialogue', async () => {
      const r = await attempt(target(accepting.port), { version: 'TLS1.2', sni: 'localhost' }, { starttls: protocol });
      expect(r.outcome).toBe('negotiated');
      expect(r.negotiatedVersion).toBe(0x0303);
      expect(r.phase).toBe('hello');
      expect(r.certificates.length).toBeGreaterThan(0);
      expect(COMMANDS[protocol](accepting.plain.at(-1)!), accepting.plain.at(-1)!.toString('latin1')).toBe(true);
    });

    it('negotiates TLS 1.3 after the dialogue and decrypts the certificate', async () => {
      const r = await attempt(target(accepting.port), { version: 'TLS1.3', sni: 'localhost' }, { starttls: protocol });
      expect(r.outcome).toBe('negotiated');
      expect(r.negotiatedVersion).toBe(0x0304);
      expect(r.messages).toContain('certificate_verify');
      expect(r.certificates.length).toBeGreaterThan(0);
    });

    it("reports starttls-refused with the server's answer when it says no", async () => {
      const r = await attempt(target(refusing.port), { version: 'TLS1.2', sni: 'localhost' }, { starttls: protocol });
      expect(r.outcome).toBe('connect-refused');
      expect(r.end).toBe('starttls-refused');
      expect(r.phase).toBe('starttls');
      expect(r.errorCode).toBe('STARTTLS_REFUSED');
      expect(r.error).toContain(REFUSALS[protocol]);
      expect(r.bytesReceived).toBe(0);
    });

    it.skipIf(!HAS_OPENSSL)(
      'gets a TLS handshake from openssl s_client -starttls (the scripted server is real enough)',
      async () => {
        const before = accepting.completed.length;
        const args = [
          's_client',
          '-starttls',
          protocol,
          '-connect',
          `127.0.0.1:${accepting.port}`,
          '-servername',
          'localhost',
        ];
        if (protocol === 'xmpp') args.push('-xmpphost', 'localhost');
        const code = await new Promise<number>((resolve) => {
          const child = spawn('openssl', args, { stdio: ['ignore', 'ignore', 'ignore'] });
          const timer = setTimeout(() => child.kill(), 10_000);
          child.on('exit', (c) => {
            clearTimeout(timer);
            resolve(c ?? -1);
          });
        });
        expect(code).toBe(0);
        expect(accepting.completed.length).toBe(before + 1);
        const sent = accepting.plain.at(-1)!;
        // Binary openings must be byte-identical with openssl's.
        if (protocol === 'ldap') expect(sent.toString('hex')).toBe(Buffer.from(encodeLdapStartTls()).toString('hex'));
        if (protocol === 'postgres')
          expect(sent.toString('hex')).toBe(Buffer.from(encodePostgresSslRequest()).toString('hex'));
        if (protocol === 'xmpp')
          expect(
            sent.toString('latin1').startsWith(Buffer.from(encodeXmppStreamHeader('localhost')).toString('latin1')),
          ).toBe(true);
        if (protocol !== 'xmpp') expect(COMMANDS[protocol](sent), sent.toString('latin1')).toBe(true);
      },
    );
  });
}
if (!HAS_OPENSSL) console.warn(NO_OPENSSL);

describe('STARTTLS edge cases', () => {
  /** A server that greets (or not) and then does one scripted thing. */
  async function oddServer(onConnection: (s: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => sockets.delete(s));
      onConnection(s);
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  it('applies the read timeout to a server that never greets', async () => {
    const srv = await oddServer((s) => s.resume());
    const r = await attempt(
      target(srv.port),
      { version: 'TLS1.2', sni: 'localhost' },
      { starttls: 'smtp', readTimeoutMs: 300 },
    );
    expect(r.end).toBe('timeout');
    expect(r.phase).toBe('starttls');
    expect(r.outcome).toBe('connect-refused');
    expect(r.error).toContain('during the STARTTLS dialogue');
    expect(r.elapsedMs).toBeGreaterThanOrEqual(300 - TIMER_EARLY_MS);
    await srv.close();
  });

  it('reports starttls-error for an answer that is not the protocol', async () => {
    const srv = await oddServer((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const r = await attempt(target(srv.port), { version: 'TLS1.2', sni: 'localhost' }, { starttls: 'smtp' });
    expect(r.end).toBe('starttls-error');
    expect(r.errorCode).toBe('STARTTLS_BAD_REPLY');
    expect(r.error).toContain('HTTP/1.1 400 Bad Request');
    await srv.close();
  });

  it('stops reading a line that never ends at the cap', async () => {
    const srv = await oddServer((s) => {
      s.write('220');
      for (let i = 0; i < 10 && !s.destroyed; i++) s.write('x'.repeat(1024));
    });
    const r = await exchange({ address: '127.0.0.1', port: srv.port, starttls: 'smtp' }, Uint8Array.of(0x16));
    expect(r.end).toBe('starttls-error');
    expect(r.errorCode).toBe('STARTTLS_REPLY_TOO_LONG');
    expect(r.setupReply).toContain(String(STARTTLS_MAX_LINE_BYTES));
    await srv.close();
  });

  it('stops reading a multi-line reply that never ends at the total cap', async () => {
    const srv = await oddServer((s) => {
      const chunk = '220-still greeting you\r\n'.repeat(100);
      for (let i = 0; i < 40 && !s.destroyed; i++) s.write(chunk);
    });
    const r = await exchange({ address: '127.0.0.1', port: srv.port, starttls: 'smtp' }, Uint8Array.of(0x16));
    expect(r.end).toBe('starttls-error');
    expect(r.errorCode).toBe('STARTTLS_REPLY_TOO_LONG');
    expect(r.setupReply).toContain(String(STARTTLS_MAX_BYTES));
    await srv.close();
  });

  it('refuses an XMPP server whose features do not offer STARTTLS', async () => {
    const srv = await oddServer((s) =>
      s.once('data', () =>
        s.write(
          "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>",
        ),
      ),
    );
    const r = await exchange(
      { address: '127.0.0.1', port: srv.port, starttls: 'xmpp', serverName: 'example.net' },
      Uint8Array.of(0x16),
    );
    expect(r.end).toBe('starttls-refused');
    expect(r.setupReply).toContain('stream features without <starttls/>');
    await srv.close();
  });

  it('keeps nothing from the dialogue in received', async () => {
    const alert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
    const srv = await oddServer((s) => {
      s.write('220 hi\r\n');
      let n = 0;
      s.on('data', () => {
        n++;
        if (n === 1) s.write('250 ok\r\n');
        else if (n === 2) s.write('220 go ahead\r\n');
        else s.end(alert);
      });
    });
    const r = await exchange(
      { address: '127.0.0.1', port: srv.port, starttls: 'smtp' },
      Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x00),
    );
    expect(r.end).toBe('fin');
    expect([...r.received]).toEqual([...alert]);
    expect(r.firstSentMs).not.toBeNull();
    expect(r.firstByteMs!).toBeGreaterThanOrEqual(r.firstSentMs!);
    await srv.close();
  });

  it('runs STARTTLS inside a proxy tunnel', async () => {
    const srv = await scriptedServer('smtp', 'accept');
    const p = await startHttpConnectProxy();
    try {
      const r = await attempt(
        target(srv.port),
        { version: 'TLS1.3', sni: 'localhost' },
        { starttls: 'smtp', via: p.via() },
      );
      expect(r.outcome).toBe('negotiated');
      expect(p.requests[0]?.target).toBe(`127.0.0.1:${srv.port}`);
      expect(COMMANDS.smtp(srv.plain[0]!)).toBe(true);
    } finally {
      await p.close();
      await srv.close();
    }
  });
});
