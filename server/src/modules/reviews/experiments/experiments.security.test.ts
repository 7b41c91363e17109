// Experiments over HTTP against the real app (docs/api/reviews.md "Experiments and arms"): an
// experiment with its arms, another arm, the list with assignment counts; and the threats —
// templates the schema allows but that contradict themselves (V1), names that clash however
// they are cased (the unique index as backstop), another study's researcher or experiment (Z4),
// a participant's token (Z2), and the audit of each change (L3).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import {
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertStudy,
  type StudyWorld,
} from '../../../../test/review-actors.js';

interface Problem {
  code: string;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}
interface Arm {
  id: string;
  name: string;
  display: { showAiScore: boolean; features: unknown[] };
  assignments: number;
}
interface Experiment {
  id: string;
  name: string;
  description: string;
  arms: Arm[];
}

const WITH_AI = {
  showAiScore: true,
  features: [
    { path: 'vitals/heart_rate', highlighted: true, top: 1 },
    { path: 'history', collapsed: true },
  ],
};
const WITHOUT_AI = { showAiScore: false, features: [{ path: 'vitals/spo2', hidden: true }] };
const BODY = {
  name: 'AI score shown or not',
  description: 'Does the AI score change triage?',
  arms: [
    { name: 'AI shown', display: WITH_AI },
    { name: 'AI hidden', display: WITHOUT_AI },
  ],
};

describeClinic('reviews: experiments', (clinic) => {
  const call = clinic.call;
  let world: StudyWorld;
  let owner: Actor;

  const base = (studyId: string) => `/api/studies/${studyId}/experiments`;
  const fresh = () =>
    insertStudy(clinic.db, world.organizationId, owner.userId, { status: 'draft' });
  async function create(studyId: string, body: object = BODY): Promise<Experiment> {
    const res = await call(owner, 'POST', base(studyId), body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ experiment: Experiment }>().experiment;
  }
  const fields = (body: Problem) => (body.errors ?? []).map((e) => e.field);

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    owner = world.owner;
  });

  it('L3: creates an experiment with its arms in order, adds an arm, lists assignment counts; each change audited', async () => {
    const studyId = await fresh();
    const experiment = await create(studyId);
    expect(experiment).toMatchObject({ name: BODY.name, description: BODY.description });
    expect(experiment.arms.map((arm) => [arm.name, arm.display, arm.assignments])).toEqual([
      ['AI shown', WITH_AI, 0],
      ['AI hidden', WITHOUT_AI, 0],
    ]);
    const added = await call(owner, 'POST', `${base(studyId)}/${experiment.id}/arms`, {
      name: 'Plain',
      display: { showAiScore: false, features: [] },
    });
    expect(added.statusCode, added.body).toBe(201);
    const arm = added.json<{ arm: Arm }>().arm;
    const participant = await addParticipant(clinic.app, studyId);
    const caseId = await insertCase(clinic.db, studyId, 'case-1');
    await insertAssignment(clinic.db, studyId, participant.userId, caseId, { armId: arm.id });

    const list = await call(owner, 'GET', base(studyId));
    expect(list.statusCode).toBe(200);
    const [listed] = list.json<{ experiments: Experiment[] }>().experiments;
    expect(listed?.arms.map((a) => [a.name, a.assignments])).toEqual([
      ['AI shown', 0],
      ['AI hidden', 0],
      ['Plain', 1],
    ]);
    const actions = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'target_id'])
      .where('actor_id', '=', owner.userId)
      .where('action', 'in', ['review.experiment_created', 'review.arm_added'])
      .where('target_id', 'in', [experiment.id, arm.id])
      .orderBy('seq')
      .execute();
    expect(actions).toEqual([
      { action: 'review.experiment_created', target_id: experiment.id },
      { action: 'review.arm_added', target_id: arm.id },
    ]);
  });

  it('V1: names clash without regard to case: arms in one body (400), an added arm or experiment (409)', async () => {
    const studyId = await fresh();
    const twins = await call(owner, 'POST', base(studyId), {
      ...BODY,
      arms: [BODY.arms[0], { ...BODY.arms[1], name: 'ai SHOWN' }],
    });
    expect(twins.statusCode).toBe(400);
    expect(fields(twins.json<Problem>())).toEqual(['arms.1.name']);
    const experiment = await create(studyId);
    const sameExperiment = await call(owner, 'POST', base(studyId), {
      ...BODY,
      name: BODY.name.toUpperCase(),
    });
    expect(sameExperiment.statusCode).toBe(409);
    const sameArm = await call(owner, 'POST', `${base(studyId)}/${experiment.id}/arms`, {
      name: 'Ai Hidden',
      display: WITHOUT_AI,
    });
    expect(sameArm.statusCode).toBe(409);
    expect(await clinic.rows('experiments', { study_id: studyId })).toHaveLength(1);
  });

  it('V1: 2 to 10 arms: one arm is a 400, an 11th added arm a 409', async () => {
    const studyId = await fresh();
    const lonely = await call(owner, 'POST', base(studyId), { ...BODY, arms: [BODY.arms[0]] });
    expect(lonely.statusCode).toBe(400);
    const arms = Array.from({ length: 10 }, (_, i) => ({ name: `Arm ${i}`, display: WITHOUT_AI }));
    const experiment = await create(studyId, { ...BODY, arms });
    const eleventh = await call(owner, 'POST', `${base(studyId)}/${experiment.id}/arms`, {
      name: 'Arm 10',
      display: WITHOUT_AI,
    });
    expect(eleventh.statusCode).toBe(409);
  });

  it('V1: a template with a repeated path, a repeated top or a malformed path is refused with its path', async () => {
    const studyId = await fresh();
    const res = await call(owner, 'POST', base(studyId), {
      ...BODY,
      arms: [
        BODY.arms[0],
        {
          name: 'Broken',
          display: {
            showAiScore: false,
            features: [
              { path: 'vitals/spo2', top: 1 },
              { path: 'vitals/spo2' },
              { path: 'history/smoker', top: 1 },
            ],
          },
        },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(fields(res.json<Problem>())).toEqual([
      'arms.1.display.features.1.path',
      'arms.1.display.features.2.top',
    ]);
    for (const path of ['vitals//spo2', '/vitals', 'vitals/sp o2', '../etc']) {
      const bad = await call(owner, 'POST', base(studyId), {
        ...BODY,
        arms: [
          BODY.arms[0],
          { name: 'Bad', display: { showAiScore: false, features: [{ path }] } },
        ],
      });
      expect(bad.statusCode, path).toBe(400);
    }
    expect(await clinic.rows('experiments', { study_id: studyId })).toHaveLength(0);
  });

  describe('Z4 and Z2', () => {
    let stranger: Actor;
    let otherExperiment: Experiment;

    beforeAll(async () => {
      const other = await createStudyWorld(clinic.app);
      stranger = other.owner;
      const res = await call(stranger, 'POST', base(other.studyId), BODY);
      otherExperiment = res.json<{ experiment: Experiment }>().experiment;
    });

    it('Z4: a researcher of another study gets the 404 of a missing study on every route', async () => {
      const studyId = await fresh();
      const experiment = await create(studyId);
      for (const res of [
        await call(stranger, 'GET', base(studyId)),
        await call(stranger, 'POST', base(studyId), { ...BODY, name: 'Intruder' }),
        await call(stranger, 'POST', `${base(studyId)}/${experiment.id}/arms`, BODY.arms[0]),
        await call(stranger, 'GET', base(randomUUID())),
      ]) {
        expect(res.statusCode, res.body).toBe(404);
        expect(res.json<Problem>().code).toBe('NOT_FOUND');
      }
      expect(await clinic.rows('experiment_arms', { experiment_id: experiment.id })).toHaveLength(
        2,
      );
    });

    it("Z4: another study's experiment through one's own study is the 404 of a missing one", async () => {
      const studyId = await fresh();
      const res = await call(owner, 'POST', `${base(studyId)}/${otherExperiment.id}/arms`, {
        name: 'Planted',
        display: WITHOUT_AI,
      });
      expect(res.statusCode).toBe(404);
      expect(
        await clinic.rows('experiment_arms', { experiment_id: otherExperiment.id }),
      ).toHaveLength(2);
    });

    it("Z2: a participant's token lacks the researcher scopes (403); no token is 401", async () => {
      const studyId = await fresh();
      const participant = await addParticipant(clinic.app, studyId);
      expect((await call(participant, 'GET', base(studyId))).statusCode).toBe(403);
      expect((await call(participant, 'POST', base(studyId), BODY)).statusCode).toBe(403);
      expect((await call(null, 'GET', base(studyId))).statusCode).toBe(401);
    });
  });
});
