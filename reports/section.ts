/** The report's extra blocks: what rank, compare, capacity and the resilience table add above the charts. */
/** An extra block of the report (rank, compare, capacity verdicts), shown above the charts. */
export interface ReportSection {
  id: string;
  title: string;
  markdown: string;
  /** already-safe HTML (the caller escapes user text) */
  html: string;
}
