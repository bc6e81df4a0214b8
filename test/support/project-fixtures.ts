/** A small valid project spec (plain JSON, as a file or a peer would give it) for ledger tests. */
export function tinyProjectInput(overrides: Record<string, unknown> = {}) {
  return {
    name: 'tiny',
    model: { type: 'mlp', inputSize: 12, hidden: [8], classes: 3, activation: 'tanh' },
    dataset: { key: 'ab'.repeat(32) },
    recipe: {
      innerSteps: 4,
      batchSize: 8,
      inner: { peakLr: 3e-3, warmupSteps: 1, totalSteps: 100, minLrRatio: 0.1 },
      outer: {},
      roundDeadlineSec: 60,
      minUpdates: 1,
      maxUpdates: 8,
    },
    ...overrides,
  }
}
