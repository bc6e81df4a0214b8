/**
 * The shape every evaluation experiment returns (`npm run eval`). Each experiment is one module in
 * test/eval/experiments/<name>.ts exporting `run(options): Promise<ExperimentResult>`; the runner
 * writes the result as JSON, draws its series as plots, and puts its table and targets in the
 * markdown summary.
 */

export interface ExperimentOptions {
  /** The reduced variant that fits in the test suite's time on 2 cores. */
  quick: boolean
  /** A folder of this experiment's own (created by the runner) for JSON, plots and scratch state. */
  outDir: string
  /** ../shared/data when present (tinyshakespeare.txt, MNIST…), else undefined. */
  dataDir: string | undefined
  /** Progress lines for the terminal. */
  log: (line: string) => void
  /** Seed for everything random in the experiment, so a run can be repeated. */
  seed: number
}

export interface ExperimentTable {
  columns: string[]
  rows: (string | number | null)[][]
}

/** One target from the issue and what the run measured against it. */
export interface TargetCheck {
  name: string
  /** The target in words, e.g. "≤ 1.05× clean loss". */
  target: string
  measured: string
  met: boolean
}

/** A line on a plot: y against x. */
export interface Series {
  label: string
  x: number[]
  y: number[]
}

export interface Plot {
  /** File name stem (no extension); the runner writes <file>.svg into outDir. */
  file: string
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  logY?: boolean
}

export interface ExperimentResult {
  name: string
  title: string
  table: ExperimentTable
  targets: TargetCheck[]
  plots: Plot[]
  /** Anything else worth keeping in the JSON (per-round numbers, settings). */
  details: Record<string, unknown>
  /** What the numbers mean and, where a target is missed, why. */
  notes: string[]
}

export type Experiment = (options: ExperimentOptions) => Promise<ExperimentResult>
