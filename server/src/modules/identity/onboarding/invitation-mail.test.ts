// The invitation mail's words (issue 14 item 7): clinic, inviter, role and a local-time expiry,
// the same in the text and the HTML part, every value escaped in the HTML.
import { describe, expect, it } from 'vitest';
import { expiryInWords, invitationMail } from './invitation-mail.js';

const BASE = {
  to: 'sam@example.org',
  link: 'https://haven.example.org/invite#token=abc_DEF-123',
  expiresAt: new Date('2026-12-08T13:05:00Z'),
  roleLabel: 'Organization administrator',
  patient: false,
  inviterName: 'Dr Grey',
  organizationName: 'Riverside Clinic',
  timeZone: 'Europe/Berlin',
};

describe('invitation mail', () => {
  it('names the clinic, the inviter and the role, and the expiry in the clinic’s time zone', () => {
    const mail = invitationMail(BASE);
    expect(mail.subject).toBe('Join Riverside Clinic on Haven');
    expect(mail.text).toContain('Dr Grey at Riverside Clinic has invited you to Haven.');
    expect(mail.text).toContain('You have been invited to Haven as: Organization administrator.');
    expect(mail.text).toContain('The link expires on Tuesday 8 December 2026 at 14:05 CET.');
    expect(mail.text).toContain(BASE.link);
    expect(mail.text).toContain('Haven never asks for your password by email.');
    expect(expiryInWords(BASE.expiresAt, 'America/New_York')).toBe(
      'Tuesday 8 December 2026 at 08:05 GMT-5',
    );
  });

  it('writes a patient’s invitation as the clinic about their record', () => {
    const mail = invitationMail({ ...BASE, patient: true, roleLabel: 'Patient' });
    expect(mail.subject).toBe('Riverside Clinic invites you to see your record on Haven');
    expect(mail.text).toContain('Riverside Clinic uses Haven to share your health record with you');
    expect(mail.text).toContain('Dr Grey sent you this invitation.');
  });

  it('falls back to plain words when no clinic or inviter is known', () => {
    const mail = invitationMail({ ...BASE, organizationName: null, inviterName: null });
    expect(mail.subject).toBe('You are invited to Haven');
    expect(mail.text).toContain('An administrator has invited you to Haven.');
  });

  it('names the study and the organization that runs it in a participant’s invitation', () => {
    const mail = invitationMail({
      ...BASE,
      roleLabel: 'Participant',
      inviterName: 'Robin Reyes',
      studyTitle: 'Pneumonia triage study',
    });
    expect(mail.subject).toBe(
      'Join the study "Pneumonia triage study" at Riverside Clinic on Haven',
    );
    const studyLine =
      'They would like you to take part in the study "Pneumonia triage study" at Riverside Clinic.';
    expect(mail.text).toContain(`Robin Reyes has invited you to Haven. ${studyLine}`);
    expect(mail.text).toContain('You have been invited to Haven as: Participant.');
    expect(mail.text).toContain('The link expires on Tuesday 8 December 2026 at 14:05 CET.');
    expect(mail.html).toContain(studyLine.replaceAll('"', '&quot;'));
    expect(mail.html).toContain('The link expires on Tuesday 8 December 2026 at 14:05 CET.');
  });

  it('V3/A10: a subject never carries a line separator and fits the mailer’s 200 characters, cut between whole characters', () => {
    const staff = invitationMail({
      ...BASE,
      organizationName: 'Riverside\u2028Bcc: x@example.org',
    });
    expect(staff.subject).toBe('Join Riverside Bcc: x@example.org on Haven');
    const title = `Trial\u2029Bcc: x@example.org ${'😀'.repeat(100)}`;
    const study = invitationMail({ ...BASE, organizationName: 'R'.repeat(120), studyTitle: title });
    expect(study.subject.length).toBeLessThanOrEqual(200);
    expect(study.subject).toMatch(
      /^Join the study "Trial Bcc: x@example\.org (😀)+…" at R{120} on Haven$/u,
    );
    expect(study.subject).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
    expect(study.text).toContain(title);
  });

  it('V3: the HTML part says the same with every value escaped', () => {
    const mail = invitationMail({
      ...BASE,
      organizationName: '<img src=x onerror=alert(1)> & Co',
      inviterName: 'Dr "Quote" O\'Neil',
    });
    const html = mail.html ?? '';
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; Co');
    expect(html).not.toContain('<img');
    expect(html).toContain('Dr &quot;Quote&quot; O&#39;Neil');
    expect(html).toContain(`href="${BASE.link}"`);
    expect(html).toContain('Tuesday 8 December 2026 at 14:05 CET');
    expect(html).toContain('You have been invited to Haven as: Organization administrator.');
  });
});
