// D3: what `haven audit` reports. One finding per check: the catalogue control it is about, a
// verdict and the evidence the verdict rests on, so an operator (or an auditor reading CI logs)
// can see why without rerunning anything.

export type Verdict = 'PASS' | 'WARN' | 'FAIL';

export interface Finding {
  /** The catalogue ID (SPEC.md) the check is about, e.g. `T3`. */
  readonly control: string;
  readonly check: string;
  readonly verdict: Verdict;
  /** What was looked at and what it showed, in one or two sentences. */
  readonly evidence: string;
}

export interface AuditReport {
  readonly findings: readonly Finding[];
  readonly summary: Readonly<Record<Verdict, number>>;
  /** 1 when any check failed, else 0. */
  readonly exitCode: 0 | 1;
}

export const finding = (
  control: string,
  check: string,
  verdict: Verdict,
  evidence: string,
): Finding => ({ control, check, verdict, evidence });

export function toReport(findings: readonly Finding[]): AuditReport {
  const summary: Record<Verdict, number> = { PASS: 0, WARN: 0, FAIL: 0 };
  for (const item of findings) summary[item.verdict] += 1;
  return { findings, summary, exitCode: summary.FAIL > 0 ? 1 : 0 };
}

/** The report as people read it: one line per finding, then the totals. */
export function formatReport(report: AuditReport): string {
  const width = Math.max(...report.findings.map((item) => item.check.length), 5);
  const lines = report.findings.map(
    (item) =>
      `${item.verdict.padEnd(4)}  ${item.control.padEnd(3)}  ${item.check.padEnd(width)}  ${item.evidence}`,
  );
  const { PASS, WARN, FAIL } = report.summary;
  lines.push('', `${PASS} passed, ${WARN} warnings, ${FAIL} failed.`);
  return `${lines.join('\n')}\n`;
}
