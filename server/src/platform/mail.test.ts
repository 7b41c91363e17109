import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from './logging.js';
import {
  createDevMailbox,
  createSmtpMailer,
  formatMailbox,
  InvalidMailError,
  isLoopbackHost,
  listDevMailbox,
  type MailMessage,
} from './mail.js';

const LINK = 'http://127.0.0.1:8080/reset#token=Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA';
const message: MailMessage = {
  to: 'clinician@example.org',
  subject: 'Reset your Haven password',
  text: `Open this link within 30 minutes:\n${LINK}\n`,
};

const INJECTIONS: MailMessage[] = [
  { ...message, to: 'clinician@example.org\r\nBcc: attacker@evil.example' },
  { ...message, to: 'clinician@example.org\nBcc: attacker@evil.example' },
  { ...message, subject: 'Hello\r\nBcc: attacker@evil.example' },
  { ...message, subject: 'Hello\nX-Injected: 1' },
  { ...message, to: 'not-an-address' },
  { ...message, to: 'a@b.org, attacker@evil.example' },
  { ...message, to: 'Attacker <attacker@evil.example>' },
];

function captureLog() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (l) => lines.push(l) } });
  return { logger, lines };
}

describe('dev mailbox', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'haven-mail-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('A10: dev mail round-trips through private 0600 files, newest first', async () => {
    const { logger, lines } = captureLog();
    const mailbox = createDevMailbox({ dir, from: 'Haven <haven@localhost>', logger });
    await mailbox.send({ ...message, subject: 'first' });
    await mailbox.send({ ...message, subject: 'second' });

    const list = await listDevMailbox(dir);
    expect(list.map((m) => m.subject)).toEqual(['second', 'first']);
    expect(list[0]).toMatchObject({ to: message.to, text: message.text });
    expect(Date.parse(list[0]!.at)).not.toBeNaN();

    const folder = path.join(dir, 'mailbox');
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    for (const name of await readdir(folder)) {
      expect(name).toMatch(/^\d{4}-\d{2}-\d{2}T[\d-]+Z-[\w-]+\.json$/);
      expect((await stat(path.join(folder, name))).mode & 0o777).toBe(0o600);
    }
    expect(formatMailbox(list)).toContain(`Subject: second`);
    expect(formatMailbox(list)).toContain(LINK);
    expect(lines.join('')).not.toMatch(/Open this link|\/reset/);
  });

  it('A10: an empty or missing mailbox lists nothing', async () => {
    expect(await listDevMailbox(path.join(dir, 'missing'))).toEqual([]);
    expect(formatMailbox([])).toMatch(/empty/);
  });

  it('A10: terminal escape sequences in mail are stripped when printed', () => {
    const printed = formatMailbox([
      { id: 'x', at: 'now', to: 'a@b.org', subject: 's', text: 'hi \u001b[2Jthere' },
    ]);
    expect(printed).not.toContain('\u001b');
  });

  it('A10: header injection is refused before anything is written', async () => {
    const mailbox = createDevMailbox({ dir, from: 'haven@localhost' });
    for (const bad of INJECTIONS) {
      await expect(mailbox.send(bad)).rejects.toBeInstanceOf(InvalidMailError);
    }
    expect(await listDevMailbox(dir)).toEqual([]);
  });
});

interface Received {
  from: string | undefined;
  to: string[];
  raw: string;
}

/** Undoes quoted-printable soft breaks and escapes, enough to search the body for the link. */
const decodeQp = (raw: string): string =>
  raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

async function startSmtpServer(host: string) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    hideSTARTTLS: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        received.push({
          from: from ? from.address : undefined,
          to: session.envelope.rcptTo.map((a) => a.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { received, port, close };
}

describe('SMTP mailer', () => {
  it('A10: mail is delivered over SMTP to a real local server', async () => {
    const smtp = await startSmtpServer('127.0.0.1');
    const { logger, lines } = captureLog();
    const mailer = createSmtpMailer({
      url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'Haven <haven@example.org>',
      logger,
    });
    try {
      await mailer.send(message);
    } finally {
      await mailer.close();
      await smtp.close();
    }
    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(mail!.from).toBe('haven@example.org');
    expect(mail!.to).toEqual(['clinician@example.org']);
    expect(mail!.raw).toMatch(/^Subject: Reset your Haven password\r?$/m);
    expect(mail!.raw).toMatch(/^To: clinician@example\.org\r?$/m);
    expect(decodeQp(mail!.raw)).toContain(LINK);
    // The body carries a one-time link: it must not reach the logs.
    expect(lines.join('')).not.toMatch(/Open this link|\/reset/);
  });

  it('A10: header injection is refused before anything reaches the SMTP server', async () => {
    const smtp = await startSmtpServer('127.0.0.1');
    const mailer = createSmtpMailer({
      url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'h@example.org',
    });
    try {
      for (const bad of INJECTIONS) {
        await expect(mailer.send(bad)).rejects.toBeInstanceOf(InvalidMailError);
      }
    } finally {
      await mailer.close();
      await smtp.close();
    }
    expect(smtp.received).toEqual([]);
  });

  const lanAddress = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

  it.skipIf(lanAddress === undefined)(
    'A10: plaintext SMTP to a non-loopback host is refused (STARTTLS required)',
    async () => {
      const smtp = await startSmtpServer(lanAddress!);
      const url = `smtp://${lanAddress}:${smtp.port}`;
      const mailer = createSmtpMailer({ url, from: 'h@x.org' });
      // The same server is reachable: only the missing STARTTLS makes the first send fail.
      const optedOut = createSmtpMailer({ url, from: 'h@x.org', requireTls: false });
      try {
        await expect(mailer.send(message)).rejects.toThrow('SMTP delivery failed');
        expect(smtp.received).toEqual([]);
        await optedOut.send(message);
        expect(smtp.received).toHaveLength(1);
      } finally {
        await mailer.close();
        await optedOut.close();
        await smtp.close();
      }
    },
  );

  it('A10: only loopback hosts are exempt from STARTTLS, and only smtp(s) URLs are accepted', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1']) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ['mail.example.org', '10.0.0.5', '192.168.1.1', 'localhost.evil.org']) {
      expect(isLoopbackHost(host)).toBe(false);
    }
    expect(() => createSmtpMailer({ url: 'http://mail.example.org', from: 'h@x.org' })).toThrow(
      InvalidMailError,
    );
    expect(() => createSmtpMailer({ url: 'smtp://x', from: 'h@x.org\r\nBcc: y@z.org' })).toThrow(
      InvalidMailError,
    );
  });
});
