// The reviews part of the API contract: real answers of the running app's reviews routes must
// decode with the schemas the SPA reads them with (server/src/contract.ts), losing nothing.
import type { TSchema } from 'typebox';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeWith } from '../../web/src/shared/schemaDecoding.js';
import {
  AssignmentPage,
  CaseAnswer,
  CasePage,
  DashboardAnswer,
  ExperimentList,
  MyStudiesAnswer,
  NextCaseAnswer,
  QuestionnaireVersionAnswer,
  QuestionnaireVersionList,
  RandomizationList,
  ReviewAssignmentAnswer,
  StudyAnswer,
  StudyListAnswer,
  StudyMemberList,
} from '../src/contract.js';
import { GENEROUS_RATE_LIMITS, callAs, type Actor } from './actors.js';
import { createTestApp, type TestApp } from './app-harness.js';
import { describeEachEngine } from './databases.js';
import {
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  type StudyWorld,
} from './review-actors.js';

describeEachEngine('the API contract decodes real reviews answers', (engine) => {
  let harness: TestApp;
  let world: StudyWorld;
  let participant: Actor;
  let caseId: string;
  let versionId: string;
  let assignmentId: string;

  beforeAll(async () => {
    harness = await createTestApp(engine, { env: { ...GENEROUS_RATE_LIMITS } });
    const db = harness.database.db;
    world = await createStudyWorld(harness.app);
    participant = await addParticipant(harness.app, world.studyId);
    caseId = await insertCase(db, world.studyId, 'case-contract', {
      aiScore: 0.7,
      aiExplanation: 'High heart rate and fever.',
    });
    versionId = await insertPublishedQuestionnaire(db, world.studyId);
    assignmentId = await insertAssignment(db, world.studyId, participant.userId, caseId, {
      display: {
        showAiScore: true,
        features: [{ path: 'vitals/heart_rate', highlighted: true, top: 1 }],
      },
    });
    const answered = await callAs(
      harness.app,
      participant,
      'POST',
      `/api/reviews/assignments/${assignmentId}/answer`,
      {
        questionnaireVersionId: versionId,
        answers: { diagnosis: 'pneumonia', confidence: 4 },
      },
    );
    expect(answered.statusCode, answered.body).toBe(201);
  });
  afterAll(async () => {
    await harness.close();
  });

  const study = () => `/api/studies/${world.studyId}`;
  const routes: ReadonlyArray<[name: string, who: () => Actor, url: () => string, TSchema]> = [
    ['studies', () => world.owner, () => '/api/studies', StudyListAnswer],
    ['a study', () => world.owner, study, StudyAnswer],
    ['the team', () => world.owner, () => `${study()}/members`, StudyMemberList],
    ['cases', () => world.owner, () => `${study()}/cases`, CasePage],
    ['a case', () => world.owner, () => `${study()}/cases/${caseId}`, CaseAnswer],
    ['versions', () => world.owner, () => `${study()}/questionnaires`, QuestionnaireVersionList],
    [
      'a version',
      () => world.owner,
      () => `${study()}/questionnaires/${versionId}`,
      QuestionnaireVersionAnswer,
    ],
    ['experiments', () => world.owner, () => `${study()}/experiments`, ExperimentList],
    ['assignments', () => world.owner, () => `${study()}/assignments`, AssignmentPage],
    ['randomizations', () => world.owner, () => `${study()}/randomizations`, RandomizationList],
    ['dashboard', () => world.owner, () => `${study()}/dashboard`, DashboardAnswer],
    ['my studies', () => participant, () => '/api/reviews/studies', MyStudiesAnswer],
    [
      'next case',
      () => participant,
      () => `/api/reviews/studies/${world.studyId}/next`,
      NextCaseAnswer,
    ],
    [
      'an assignment',
      () => participant,
      () => `/api/reviews/assignments/${assignmentId}`,
      ReviewAssignmentAnswer,
    ],
  ];

  it.each(routes)('%s', async (_name, who, url, schema) => {
    const response = await callAs(harness.app, who(), 'GET', url());
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<unknown>();
    // Nothing lost: decoding keeps every member the server sent.
    expect(decodeWith(schema, body)).toEqual(body);
  });
});
