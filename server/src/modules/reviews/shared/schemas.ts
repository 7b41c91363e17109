// Shapes every room of the reviews module shares (issue 10): the case tree, the display
// configuration of an assignment or an arm, and questionnaire questions. Each is bounded by
// its schema, so a body that passes validation can be walked without further size checks.
import { Type, type Static, type TSchema } from 'typebox';

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
export const Id = Type.String({ maxLength: 36 });
export const Iso = Type.String({ maxLength: 40 });
export const Empty = Type.Object({}, { additionalProperties: false });
/** Printable text on one line: no C0/C1 controls, DEL or lone surrogates. */
export const LINE_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$';
/** Printable text that may span lines (tab, LF and CR allowed). */
export const TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$';

export const line = (maxLength: number, minLength = 0) =>
  Type.String({ minLength, maxLength, pattern: LINE_PATTERN });
export const text = (maxLength: number, minLength = 0) =>
  Type.String({ minLength, maxLength, pattern: TEXT_PATTERN });

/** Bounds of a case tree; the schema enforces depth and fan-out, the service the node count. */
export const CASE_LIMITS = Object.freeze({
  /** Levels of nodes: sections are level 1, their features level 2, and so on. */
  depth: 6,
  /** Nodes in one case, all levels together. */
  nodes: 2000,
  /** Children of one node (and sections of one case). */
  children: 200,
  keyLength: 64,
  labelLength: 200,
  valueLength: 2000,
  unitLength: 32,
  externalIdLength: 100,
  aiExplanationLength: 1000,
});

/**
 * A node key: letters, digits, `_`, `-` and `.`; keys joined by `/` make a feature path
 * (`vitals/heart_rate`), so `/` is never part of a key.
 */
export const NODE_KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
export const NodeKey = Type.String({
  minLength: 1,
  maxLength: CASE_LIMITS.keyLength,
  pattern: NODE_KEY_PATTERN,
});
/** A feature path: node keys joined by `/`, at most CASE_LIMITS.depth of them. */
export const FEATURE_PATH_PATTERN = `^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*){0,${CASE_LIMITS.depth - 1}}$`;
export const FeaturePath = Type.String({
  minLength: 1,
  maxLength: CASE_LIMITS.depth * (CASE_LIMITS.keyLength + 1),
  pattern: FEATURE_PATH_PATTERN,
});

export const NodeValue = Type.Union([
  Type.String({ maxLength: CASE_LIMITS.valueLength, pattern: TEXT_PATTERN }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
]);

/**
 * One level of the tree. Unrolled level by level instead of a recursive schema: the depth bound
 * is then part of the schema itself, and both the validator and the serializer walk a finite
 * shape (a recursive $ref would let a hostile body drive either as deep as it likes).
 */
function caseNodeAt(level: number): TSchema {
  const properties: Record<string, TSchema> = {
    key: NodeKey,
    label: line(CASE_LIMITS.labelLength, 1),
    value: Type.Optional(NodeValue),
    unit: Type.Optional(line(CASE_LIMITS.unitLength)),
  };
  if (level < CASE_LIMITS.depth) {
    properties.children = Type.Optional(
      Type.Array(caseNodeAt(level + 1), { maxItems: CASE_LIMITS.children }),
    );
  }
  return Type.Object(properties, { additionalProperties: false });
}

export interface CaseNode {
  key: string;
  label: string;
  value?: string | number | boolean | null;
  unit?: string;
  children?: CaseNode[];
}

/** The sections of a case (level-1 nodes), each with its features and values below. */
export const CaseTree = Type.Array(caseNodeAt(1), { minItems: 1, maxItems: CASE_LIMITS.children });
export type CaseTreeView = CaseNode[];

/** How one feature path is shown in an assignment (absent paths are shown plainly). */
export const FeatureDisplay = Type.Object(
  {
    path: FeaturePath,
    hidden: Type.Optional(Type.Boolean()),
    collapsed: Type.Optional(Type.Boolean()),
    highlighted: Type.Optional(Type.Boolean()),
    /** Pin order: pinned features come first, lowest number first. */
    top: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type FeatureDisplayView = Static<typeof FeatureDisplay>;

/** The display configuration of an assignment, or the template of an experiment arm. */
export const DisplayConfig = Type.Object(
  {
    showAiScore: Type.Boolean(),
    features: Type.Array(FeatureDisplay, { maxItems: CASE_LIMITS.nodes }),
  },
  { additionalProperties: false },
);
export type DisplayConfigView = Static<typeof DisplayConfig>;

export const QUESTION_TYPES = ['text', 'paragraph', 'single', 'multiple', 'scale'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

export const QuestionOption = Type.Object(
  { value: NodeKey, label: line(200, 1) },
  { additionalProperties: false },
);

export const QuestionScale = Type.Object(
  {
    min: Type.Integer({ minimum: -1000, maximum: 1000 }),
    max: Type.Integer({ minimum: -1000, maximum: 1000 }),
    step: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    minLabel: Type.Optional(line(100)),
    maxLabel: Type.Optional(line(100)),
  },
  { additionalProperties: false },
);

/**
 * One question. `options` belong to single and multiple choice (2–20 of them), `scale` to the
 * Likert/numeric scale; the questionnaire service refuses any other combination.
 */
export const Question = Type.Object(
  {
    id: NodeKey,
    type: Type.Union([
      Type.Literal('text'),
      Type.Literal('paragraph'),
      Type.Literal('single'),
      Type.Literal('multiple'),
      Type.Literal('scale'),
    ]),
    prompt: text(500, 1),
    help: Type.Optional(text(1000)),
    required: Type.Boolean(),
    options: Type.Optional(Type.Array(QuestionOption, { minItems: 2, maxItems: 20 })),
    scale: Type.Optional(QuestionScale),
  },
  { additionalProperties: false },
);
export type QuestionView = Static<typeof Question>;

export const MAX_QUESTIONS = 50;

/** A participant's answer to one question: text, one option, several options, or a number. */
export const AnswerValue = Type.Union([
  Type.String({ maxLength: 10_000, pattern: TEXT_PATTERN }),
  Type.Array(NodeKey, { maxItems: 20 }),
  Type.Number(),
]);
/**
 * Answers by question id: a bounded map (at most MAX_QUESTIONS keys, each a node key), which the
 * route contract admits because every key and value has a bound; the participation room then
 * checks every key and value against the questionnaire version.
 */
export const AnswerValues = Type.Object(
  {},
  {
    additionalProperties: AnswerValue,
    maxProperties: MAX_QUESTIONS,
    propertyNames: { pattern: NODE_KEY_PATTERN, maxLength: CASE_LIMITS.keyLength },
  },
);
export type AnswerValuesView = Record<string, Static<typeof AnswerValue>>;

/**
 * The attention check of a questionnaire version: a single-choice question with an expected
 * answer, asked with every `every`-th case of a participant (positions every, 2·every, …).
 */
export const AttentionCheck = Type.Object(
  {
    every: Type.Integer({ minimum: 2, maximum: 100 }),
    question: Question,
    expected: NodeKey,
  },
  { additionalProperties: false },
);
export type AttentionCheckView = Static<typeof AttentionCheck>;
