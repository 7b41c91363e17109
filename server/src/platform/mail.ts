// A10: outgoing mail. Production sends over SMTP (STARTTLS required off-host); development
// writes each message to a private folder read with `npx haven mail`. Messages carry one-time
// links, so their bodies are never logged, and headers are checked here (not trusted to
// callers) because a CR/LF in a recipient or subject would let input inject headers.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { randomToken } from './crypto.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export interface DevMailboxEntry {
  id: string;
  at: string;
  to: string;
  subject: string;
  text: string;
}

export class InvalidMailError extends Error {
  constructor(reason: string) {
    super(`refusing to send mail: ${reason}`);
    this.name = 'InvalidMailError';
  }
}

// ASCII addr-spec (dot-atom local part, hostname labels); anything fancier is refused, not fixed.
const ADDRESS =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// CR/LF plus every other control and Unicode line break a header parser might split on.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const HEADER_BREAKING = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;
const MAX_SUBJECT = 200;

/** Throws InvalidMailError unless the recipient and subject are safe to put in headers. */
export function validateMailMessage(message: MailMessage): void {
  const { to, subject } = message;
  if (HEADER_BREAKING.test(to) || HEADER_BREAKING.test(subject)) {
    throw new InvalidMailError('line breaks or control characters in a header');
  }
  if (to.length > 254 || !ADDRESS.test(to)) throw new InvalidMailError('invalid recipient');
  if (subject.length === 0 || subject.length > MAX_SUBJECT) {
    throw new InvalidMailError('subject is empty or too long');
  }
}

function checkFrom(from: string): void {
  if (HEADER_BREAKING.test(from)) throw new InvalidMailError('line breaks in the sender');
}

/** True for localhost and loopback IPs: the one case where plaintext SMTP stays on the host. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

export function createSmtpMailer(options: {
  url: string;
  from: string;
  requireTls?: boolean;
  logger?: Logger;
}): Mailer {
  checkFrom(options.from);
  const url = new URL(options.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new InvalidMailError('the SMTP URL must start with smtp:// or smtps://');
  }
  const implicitTls = url.protocol === 'smtps:';
  const transporter = nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : implicitTls ? 465 : 587,
    secure: implicitTls,
    // Credentials would cross the network in the clear without STARTTLS; only the local host is exempt.
    requireTLS: !implicitTls && options.requireTls !== false && !isLoopbackHost(url.hostname),
    tls: { minVersion: 'TLSv1.2' },
    ...(url.username
      ? {
          auth: {
            user: decodeURIComponent(url.username),
            pass: decodeURIComponent(url.password),
          },
        }
      : {}),
    // A stalled relay must not hold the job (or request) that sends mail forever.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    dnsTimeout: 10_000,
    // Message content never names local files or URLs to attach; forbid it outright.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  });
  return {
    async send(message) {
      validateMailMessage(message);
      const { to, subject, text, html } = message;
      try {
        await transporter.sendMail({
          from: options.from,
          to,
          subject,
          text,
          ...(html ? { html } : {}),
        });
      } catch (cause) {
        // The original error may quote the SMTP dialogue; keep it as cause, never in the message.
        throw new Error('SMTP delivery failed', { cause });
      }
      options.logger?.info('mail sent over SMTP');
    },
    async close() {
      transporter.close();
    },
  };
}

/** The dev mailbox folder inside the data folder. */
export function devMailboxDir(dataDir: string): string {
  return path.join(dataDir, 'mailbox');
}

const ENTRY_FILE = /^[0-9TZ-]+-[A-Za-z0-9_-]+\.json$/;
let lastWrittenMs = 0;

/**
 * Development mail: each message becomes `<dir>/mailbox/<ISO time>-<random>.json` (0600, in a
 * 0700 folder, since the links in it log a user in). `dir` is the data folder.
 */
export function createDevMailbox(options: { dir: string; from: string; logger?: Logger }): Mailer {
  checkFrom(options.from);
  const folder = devMailboxDir(options.dir);
  return {
    async send(message) {
      validateMailMessage(message);
      // Strictly increasing times keep "newest first" exact for messages sent in the same ms.
      lastWrittenMs = Math.max(Date.now(), lastWrittenMs + 1);
      const at = new Date(lastWrittenMs).toISOString();
      const id = `${at.replace(/[:.]/g, '-')}-${randomToken(6)}`;
      await mkdir(folder, { recursive: true, mode: 0o700 });
      const body = JSON.stringify({ id, at, from: options.from, ...message }, null, 2);
      await writeFile(path.join(folder, `${id}.json`), body, { mode: 0o600, flag: 'wx' });
      options.logger?.info({ mailId: id }, 'mail written to the dev mailbox (npx haven mail)');
    },
    async close() {},
  };
}

function isEntry(value: unknown): value is DevMailboxEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['id', 'at', 'to', 'subject', 'text'].every((k) => typeof v[k] === 'string');
}

/** Messages in the dev mailbox of data folder `dir`, newest first; unreadable files are skipped. */
export async function listDevMailbox(dir: string): Promise<DevMailboxEntry[]> {
  const folder = devMailboxDir(dir);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries: DevMailboxEntry[] = [];
  for (const name of names.filter((n) => ENTRY_FILE.test(n))) {
    try {
      const parsed: unknown = JSON.parse(await readFile(path.join(folder, name), 'utf8'));
      if (!isEntry(parsed)) continue;
      const { id, at, to, subject, text } = parsed;
      entries.push({ id, at, to, subject, text });
    } catch {
      // A half-written or hand-edited file must not hide the rest of the mailbox.
    }
  }
  return entries.sort((a, b) => (a.at === b.at ? b.id.localeCompare(a.id) : b.at < a.at ? -1 : 1));
}

// Mail text can quote user input; terminal escape sequences in it must not reach the terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const clean = (s: string): string => s.replace(TERMINAL_UNSAFE, '');

/** Renders the mailbox for the terminal (`npx haven mail`). */
export function formatMailbox(list: readonly DevMailboxEntry[]): string {
  if (list.length === 0) return 'The dev mailbox is empty.\n';
  return list
    .map((m) =>
      [
        `── ${clean(m.at)}  ${clean(m.id)}`,
        `To: ${clean(m.to)}`,
        `Subject: ${clean(m.subject)}`,
        '',
        clean(m.text).trimEnd(),
        '',
      ].join('\n'),
    )
    .join('\n');
}
