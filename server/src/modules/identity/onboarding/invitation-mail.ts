// The invitation mail (issue 14 item 7): who invites, for which clinic, as what, and until when
// in the clinic's time zone, in a text part and an HTML part that say the same. It reads like
// the clinic writing, and tells the reader how to recognise it (no password is ever asked for by
// mail; nothing happens if they ignore it), so it does not read like phishing. A study
// participant's mail names the study and the organization that runs it.
import type { MailMessage } from '../../../platform/mail.js';
import { escapeHtml } from '../../../platform/html.js';

export interface InvitationWording {
  readonly to: string;
  readonly link: string;
  readonly expiresAt: Date;
  /** The role in words (roles.ts personRoleLabel). */
  readonly roleLabel: string;
  /** Whether the invitee is a patient: their mail is about their record, not their work. */
  readonly patient: boolean;
  readonly inviterName: string | null;
  readonly organizationName: string | null;
  /** The study a participant is invited to take part in (its title is a researcher's text). */
  readonly studyTitle?: string | null;
  /** HAVEN_TIME_ZONE: the IANA zone the expiry is stated in. */
  readonly timeZone: string;
}

/** "Tuesday 8 December 2026 at 14:05 CET", in the clinic's zone (the zone as en-GB names it). */
export function expiryInWords(expiresAt: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(expiresAt);
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((p) => p.type === type)?.value ?? '';
  return (
    `${part('weekday')} ${part('day')} ${part('month')} ${part('year')} ` +
    `at ${part('hour')}:${part('minute')} ${part('timeZoneName')}`
  );
}

/** platform/mail.ts refuses a longer subject. */
const MAX_SUBJECT_LENGTH = 200;
/**
 * What platform/mail.ts refuses in a header (controls, NEL, line and paragraph separators).
 * Names and titles refuse controls when saved, but not U+2028/U+2029: a space stands in, so
 * the mail goes out instead of being refused after its invitation committed.
 */
const HEADER_BREAKING = /[\p{Cc}\u2028\u2029]/gu;
const oneLine = (text: string) => text.replace(HEADER_BREAKING, ' ');

/** At most `room` UTF-16 units (what the mailer counts), whole code points, "…" when cut. */
function shortened(text: string, room: number): string {
  if (text.length <= room) return text;
  let kept = '';
  for (const point of text) {
    if (kept.length + point.length > room - 1) break;
    kept += point;
  }
  return `${kept.trimEnd()}…`;
}

/** The subject: user text on one line, a study title shortened so the whole fits the limit. */
function subjectOf(wording: InvitationWording): string {
  const clinic = wording.organizationName === null ? null : oneLine(wording.organizationName);
  if (wording.studyTitle) {
    const before = 'Join the study "';
    const after = `"${clinic ? ` at ${clinic}` : ''} on Haven`;
    const room = MAX_SUBJECT_LENGTH - before.length - after.length;
    return shortened(
      `${before}${shortened(oneLine(wording.studyTitle), room)}${after}`,
      MAX_SUBJECT_LENGTH,
    );
  }
  const subject = wording.patient
    ? `${clinic ?? 'Your clinic'} invites you to see your record on Haven`
    : clinic
      ? `Join ${clinic} on Haven`
      : 'You are invited to Haven';
  return shortened(subject, MAX_SUBJECT_LENGTH);
}

export function invitationMail(wording: InvitationWording): MailMessage {
  const clinic = wording.organizationName;
  const inviter = wording.inviterName;
  const study = wording.studyTitle;
  const expiry = expiryInWords(wording.expiresAt, wording.timeZone);
  const subject = subjectOf(wording);
  const opening = wording.patient
    ? `${clinic ?? 'Your clinic'} uses Haven to share your health record with you: your details, the notes your care team shares, your consents and who opened your record.`
    : study
      ? `${inviter ?? 'A researcher'} has invited you to Haven. They would like you to take part in the study "${study}"${clinic ? ` at ${clinic}` : ''}.`
      : `${inviter ?? 'An administrator'}${clinic ? ` at ${clinic}` : ''} has invited you to Haven.`;
  const sentBy = wording.patient && inviter ? `${inviter} sent you this invitation.` : null;
  const role = `You have been invited to Haven as: ${wording.roleLabel}.`;
  const action = 'Open this link to choose your password (it works once):';
  const until = `The link expires on ${expiry}.`;
  const safety =
    'If you were not expecting this invitation, ignore this email: nothing happens until you choose a password. Haven never asks for your password by email.';

  const text = [
    'Hello,',
    '',
    opening,
    ...(sentBy ? [sentBy] : []),
    role,
    '',
    action,
    '',
    wording.link,
    '',
    until,
    '',
    safety,
    '',
  ].join('\n');

  const paragraph = (content: string) => `<p style="margin:0 0 16px">${escapeHtml(content)}</p>`;
  const html = [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1f2933;background:#f5f7fa">',
    '<div style="max-width:560px;margin:0 auto;padding:24px;background:#ffffff;border-radius:8px">',
    paragraph('Hello,'),
    paragraph(opening),
    ...(sentBy ? [paragraph(sentBy)] : []),
    paragraph(role),
    `<p style="margin:0 0 16px"><a href="${escapeHtml(wording.link)}" style="display:inline-block;padding:12px 20px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:6px">Choose your password</a></p>`,
    paragraph(`Or copy this link into your browser: ${wording.link}`),
    paragraph(until),
    `<p style="margin:0;color:#52606d;font-size:14px">${escapeHtml(safety)}</p>`,
    '</div></body></html>',
  ].join('\n');

  return { to: wording.to, subject, text, html };
}
