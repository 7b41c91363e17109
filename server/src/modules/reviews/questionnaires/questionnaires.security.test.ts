// Questionnaires over HTTP against the real app (docs/api/reviews.md "Questionnaires"): drafts,
// edits, publication, versions; and the threats — a published version changed after the fact
// (route and database trigger), questions that the schema allows but make no sense (V1), another
// study's researcher or version (Z4), a participant's token (Z2), and the audit trail (L3).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import {
  SAMPLE_QUESTIONS,
  addParticipant,
  createStudyWorld,
  insertStudy,
  type StudyWorld,
} from '../../../../test/review-actors.js';
import type { QuestionView } from '../shared/schemas.js';

interface Problem {
  code: string;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}
interface Version {
  id: string;
  version: number;
  status: string;
  title: string;
  questions: QuestionView[];
  attentionCheck: unknown;
  publishedAt: string | null;
}

const ATTENTION = {
  every: 5,
  question: {
    id: 'attention',
    type: 'single',
    prompt: 'Please choose "blue".',
    required: true,
    options: [
      { value: 'red', label: 'Red' },
      { value: 'blue', label: 'Blue' },
    ],
  },
  expected: 'blue',
};
const BODY = {
  title: 'Triage questionnaire',
  questions: SAMPLE_QUESTIONS,
  attentionCheck: ATTENTION,
};

describeClinic('reviews: questionnaires', (clinic) => {
  const call = clinic.call;
  let world: StudyWorld;
  let owner: Actor;

  const base = (studyId: string) => `/api/studies/${studyId}/questionnaires`;
  const fresh = () =>
    insertStudy(clinic.db, world.organizationId, owner.userId, { status: 'draft' });
  async function draft(studyId: string, body: object = BODY): Promise<Version> {
    const res = await call(owner, 'POST', base(studyId), body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ version: Version }>().version;
  }
  async function published(studyId: string): Promise<Version> {
    const version = await draft(studyId);
    const res = await call(owner, 'POST', `${base(studyId)}/${version.id}/publish`, {});
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ version: Version }>().version;
  }
  const fields = (body: Problem) => (body.errors ?? []).map((e) => e.field);

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    owner = world.owner;
  });

  describe('versions end to end', () => {
    it('a draft is numbered after the newest version; only one draft at a time (409)', async () => {
      const studyId = await fresh();
      const first = await draft(studyId);
      expect(first).toMatchObject({ version: 1, status: 'draft', publishedAt: null });
      expect(first.questions).toEqual(SAMPLE_QUESTIONS);
      expect(first.attentionCheck).toEqual(ATTENTION);
      const again = await call(owner, 'POST', base(studyId), BODY);
      expect(again.statusCode).toBe(409);
      expect(again.json<Problem>().detail).toMatch(/Version 1 is still a draft/);

      const edited = await call(owner, 'PUT', `${base(studyId)}/${first.id}`, {
        title: 'Edited',
        questions: SAMPLE_QUESTIONS.slice(0, 1),
      });
      expect(edited.statusCode, edited.body).toBe(200);
      expect(edited.json<{ version: Version }>().version).toMatchObject({
        title: 'Edited',
        attentionCheck: null,
      });

      const publish = await call(owner, 'POST', `${base(studyId)}/${first.id}/publish`, {});
      expect(publish.statusCode).toBe(200);
      expect(publish.json<{ version: Version }>().version.status).toBe('published');
      const second = await draft(studyId);
      expect(second.version).toBe(2);

      const list = await call(owner, 'GET', base(studyId));
      expect(list.statusCode).toBe(200);
      expect(list.json<{ versions: Array<Record<string, unknown>> }>().versions).toMatchObject([
        { id: second.id, version: 2, status: 'draft', questionCount: 3, hasAttentionCheck: true },
        {
          id: first.id,
          version: 1,
          status: 'published',
          questionCount: 1,
          hasAttentionCheck: false,
        },
      ]);
      const one = await call(owner, 'GET', `${base(studyId)}/${first.id}`);
      expect(one.json<{ version: Version }>().version.title).toBe('Edited');
    });

    it('L3: publishing is audited with the version id only', async () => {
      const studyId = await fresh();
      const version = await published(studyId);
      const events = await clinic.db
        .selectFrom('audit_events')
        .select(['action', 'actor_id', 'target_id', 'details'])
        .where('action', '=', 'review.questionnaire_published')
        .where('target_id', '=', version.id)
        .execute();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor_id: owner.userId });
      expect(JSON.stringify(events[0]!.details)).not.toContain('diagnosis');
    });
  });

  describe('a published version is immutable', () => {
    it('V1: PUT on a published version is 409 with a sentence saying what to do; nothing changes', async () => {
      const studyId = await fresh();
      const version = await published(studyId);
      const res = await call(owner, 'PUT', `${base(studyId)}/${version.id}`, {
        ...BODY,
        title: 'Changed after publication',
      });
      expect(res.statusCode).toBe(409);
      expect(res.json<Problem>().detail).toBe(
        'Version 1 is published and can no longer change; create a new version instead.',
      );
      const again = await call(owner, 'POST', `${base(studyId)}/${version.id}/publish`, {});
      expect(again.statusCode).toBe(409);
      const [row] = await clinic.rows('questionnaire_versions', { id: version.id });
      expect(row).toMatchObject({ title: BODY.title, status: 'published' });
    });

    it('V1: the database trigger refuses an UPDATE of a published version made behind the API', async () => {
      const studyId = await fresh();
      const version = await published(studyId);
      await expect(
        sql`UPDATE questionnaire_versions SET title = 'Rewritten' WHERE id = ${version.id}`.execute(
          clinic.db,
        ),
      ).rejects.toThrow(/immutable/);
      await expect(
        sql`UPDATE questionnaire_versions SET status = 'draft' WHERE id = ${version.id}`.execute(
          clinic.db,
        ),
      ).rejects.toThrow(/immutable/);
    });
  });

  describe('V1: questions that the schema allows but make no sense are refused with their path', () => {
    const single = SAMPLE_QUESTIONS[0]!;
    const scale = SAMPLE_QUESTIONS[1]!;
    const cases: Array<[string, object, string]> = [
      [
        'repeated question ids',
        { questions: [single, { ...scale, id: single.id }] },
        'questions.1.id',
      ],
      [
        'options on a text question',
        {
          questions: [
            { id: 'q', type: 'text', prompt: 'Q', required: false, options: single.options },
          ],
        },
        'questions.0.options',
      ],
      [
        'a choice question without options',
        { questions: [{ id: 'q', type: 'multiple', prompt: 'Q', required: false }] },
        'questions.0.options',
      ],
      [
        'a scale without a scale',
        { questions: [{ ...scale, scale: undefined }] },
        'questions.0.scale',
      ],
      [
        'a scale on a choice question',
        { questions: [{ ...single, scale: { min: 1, max: 5 } }] },
        'questions.0.scale',
      ],
      [
        'min not below max',
        { questions: [{ ...scale, scale: { min: 5, max: 5 } }] },
        'questions.0.scale.max',
      ],
      [
        'a step that misses max',
        { questions: [{ ...scale, scale: { min: 0, max: 10, step: 3 } }] },
        'questions.0.scale.step',
      ],
      [
        'repeated option values',
        {
          questions: [
            {
              ...single,
              options: [
                { value: 'a', label: 'A' },
                { value: 'a', label: 'B' },
              ],
            },
          ],
        },
        'questions.0.options.1.value',
      ],
      [
        'an attention check that is not single choice',
        { attentionCheck: { ...ATTENTION, question: { ...ATTENTION.question, type: 'multiple' } } },
        'attentionCheck.question.type',
      ],
      [
        'an expected answer that is not an option',
        { attentionCheck: { ...ATTENTION, expected: 'green' } },
        'attentionCheck.expected',
      ],
      [
        'an attention check id shared with a question',
        { attentionCheck: { ...ATTENTION, question: { ...ATTENTION.question, id: 'diagnosis' } } },
        'attentionCheck.question.id',
      ],
      [
        'an attention check with one option',
        {
          attentionCheck: {
            ...ATTENTION,
            question: { ...ATTENTION.question, options: [{ value: 'blue', label: 'Blue' }] },
          },
        },
        'body.attentionCheck.question.options',
      ],
    ];
    for (const [name, change, field] of cases) {
      it(`V1: ${name} → 400 naming ${field}; nothing written`, async () => {
        const studyId = await fresh();
        const res = await call(owner, 'POST', base(studyId), { ...BODY, ...change });
        expect(res.statusCode, res.body).toBe(400);
        expect(fields(res.json<Problem>())).toContain(field);
        expect(await clinic.rows('questionnaire_versions', { study_id: studyId })).toHaveLength(0);
      });
    }

    it('V1: an edit is checked the same way', async () => {
      const studyId = await fresh();
      const version = await draft(studyId);
      const res = await call(owner, 'PUT', `${base(studyId)}/${version.id}`, {
        ...BODY,
        questions: [SAMPLE_QUESTIONS[0], SAMPLE_QUESTIONS[0]],
      });
      expect(res.statusCode).toBe(400);
      expect(fields(res.json<Problem>())).toEqual(['questions.1.id']);
    });
  });

  describe('Z4 and Z2', () => {
    let stranger: Actor;
    let otherStudy: string;
    let otherVersion: Version;

    beforeAll(async () => {
      const other = await createStudyWorld(clinic.app);
      stranger = other.owner;
      otherStudy = other.studyId;
      const res = await call(stranger, 'POST', base(otherStudy), BODY);
      otherVersion = res.json<{ version: Version }>().version;
    });

    it('Z4: a researcher of another study gets the 404 of a missing study on every route', async () => {
      const studyId = await fresh();
      const version = await draft(studyId);
      const attempts = [
        await call(stranger, 'GET', base(studyId)),
        await call(stranger, 'POST', base(studyId), BODY),
        await call(stranger, 'GET', `${base(studyId)}/${version.id}`),
        await call(stranger, 'PUT', `${base(studyId)}/${version.id}`, BODY),
        await call(stranger, 'POST', `${base(studyId)}/${version.id}/publish`, {}),
      ];
      const missing = await call(stranger, 'GET', base(randomUUID()));
      for (const res of [...attempts, missing]) {
        expect(res.statusCode, res.body).toBe(404);
        expect(res.json<Problem>().code).toBe('NOT_FOUND');
      }
      const [row] = await clinic.rows('questionnaire_versions', { id: version.id });
      expect(row).toMatchObject({ status: 'draft', title: BODY.title });
    });

    it("Z4: another study's version through one's own study is the 404 of a missing version", async () => {
      const studyId = await fresh();
      for (const res of [
        await call(owner, 'GET', `${base(studyId)}/${otherVersion.id}`),
        await call(owner, 'PUT', `${base(studyId)}/${otherVersion.id}`, {
          ...BODY,
          title: 'Mine now',
        }),
        await call(owner, 'POST', `${base(studyId)}/${otherVersion.id}/publish`, {}),
      ]) {
        expect(res.statusCode, res.body).toBe(404);
      }
      const [row] = await clinic.rows('questionnaire_versions', { id: otherVersion.id });
      expect(row).toMatchObject({ status: 'draft', title: BODY.title });
    });

    it('Z4: a removed researcher reaches nothing', async () => {
      const studyId = await fresh();
      const colleague = await clinic.actor(['researcher']);
      await clinic.addMember(world.organizationId, colleague, 'researcher');
      await clinic.db
        .insertInto('study_members')
        .values({ study_id: studyId, user_id: colleague.userId, role: 'researcher' })
        .execute();
      expect((await call(colleague, 'GET', base(studyId))).statusCode).toBe(200);
      await clinic.db
        .updateTable('study_members')
        .set({ removed_at: new Date() })
        .where('study_id', '=', studyId)
        .where('user_id', '=', colleague.userId)
        .execute();
      expect((await call(colleague, 'GET', base(studyId))).statusCode).toBe(404);
      expect((await call(colleague, 'POST', base(studyId), BODY)).statusCode).toBe(404);
    });

    it("Z2: a participant's token lacks the researcher scopes: 403 on reads and changes", async () => {
      const studyId = await fresh();
      const participant = await addParticipant(clinic.app, studyId);
      expect((await call(participant, 'GET', base(studyId))).statusCode).toBe(403);
      expect((await call(participant, 'POST', base(studyId), BODY)).statusCode).toBe(403);
      expect((await call(null, 'GET', base(studyId))).statusCode).toBe(401);
    });

    it('a closed study takes no questionnaire changes (409)', async () => {
      const studyId = await insertStudy(clinic.db, world.organizationId, owner.userId, {
        status: 'closed',
      });
      expect((await call(owner, 'POST', base(studyId), BODY)).statusCode).toBe(409);
      expect((await call(owner, 'GET', base(studyId))).statusCode).toBe(200);
    });
  });
});
