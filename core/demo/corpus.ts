/**
 * The demo project's training text, generated here so the app ships no third-party text. A small
 * seeded grammar writes short log-book entries of a made-up harbour town: sentences with agreement
 * (a / an, plural verbs), recurring names, numbers and times. Regular enough that a tiny character
 * model visibly learns it within a few rounds (spelling first, then word order), varied enough that
 * it cannot just memorise one line.
 */

const NAMES = ['Ada', 'Bram', 'Cleo', 'Dara', 'Emil', 'Faye', 'Gus', 'Hana', 'Ivo', 'Juno']
const ROLES = ['baker', 'sailor', 'keeper', 'miller', 'weaver', 'smith', 'pilot', 'tailor']
const PLACES = ['harbour', 'market', 'mill', 'lighthouse', 'bridge', 'orchard', 'quay', 'square']
const ADJECTIVES = ['old', 'quiet', 'busy', 'windy', 'narrow', 'bright', 'cold', 'green']
const THINGS = ['boat', 'basket', 'lantern', 'rope', 'barrel', 'kettle', 'map', 'oar', 'apple']
const VERBS: Array<[string, string]> = [
  ['carries', 'carry'],
  ['mends', 'mend'],
  ['paints', 'paint'],
  ['counts', 'count'],
  ['finds', 'find'],
  ['sells', 'sell'],
]
const WEATHER = ['rain', 'fog', 'sun', 'wind', 'snow']
const TIMES = ['at dawn', 'at noon', 'in the evening', 'at night', 'before supper']

/** mulberry32, seeded: the same seed always writes the same corpus. */
function generator(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`
}

function plural(word: string): string {
  return word.endsWith('sh') || word.endsWith('s') ? `${word}es` : `${word}s`
}

function sentenceMaker(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const count = () => 2 + Math.floor(rand() * 9)
  return (): string => {
    const who = pick(NAMES)
    const place = pick(PLACES)
    const thing = pick(THINGS)
    const [verb, verbPlural] = pick(VERBS)
    switch (Math.floor(rand() * 6)) {
      case 0:
        return `${who} the ${pick(ROLES)} ${verb} ${article(pick(ADJECTIVES) + ' ' + thing)} ${pick(TIMES)}.`
      case 1: {
        const n = count()
        return `At the ${place}, ${n} ${plural(pick(ROLES))} ${verbPlural} ${n + 1} ${plural(thing)}.`
      }
      case 2:
        return `The ${place} is ${pick(ADJECTIVES)} today, and there is ${pick(WEATHER)} ${pick(TIMES)}.`
      case 3:
        return `${who} and ${pick(NAMES)} walk to the ${place} to ${verbPlural} the ${thing}.`
      case 4:
        return `"Where is my ${thing}?" asks ${who}. "By the ${pick(ADJECTIVES)} ${place}," says ${pick(NAMES)}.`
      default: {
        const h = 5 + Math.floor(rand() * 15)
        return `Day ${1 + Math.floor(rand() * 300)}: the ${pick(ROLES)} opened the ${place} at ${h}:${rand() < 0.5 ? '00' : '30'}.`
      }
    }
  }
}

/** About `bytes` of text (ASCII, so bytes = characters), paragraphs of 3–6 sentences. */
export function generateCorpus(bytes: number, seed = 1): string {
  if (!Number.isInteger(bytes) || bytes < 1)
    throw new RangeError('bytes must be a positive integer')
  const rand = generator(seed)
  const sentence = sentenceMaker(rand)
  const parts: string[] = []
  let size = 0
  while (size < bytes) {
    const n = 3 + Math.floor(rand() * 4)
    const paragraph = Array.from({ length: n }, sentence).join(' ') + '\n\n'
    parts.push(paragraph)
    size += paragraph.length
  }
  return parts.join('').slice(0, bytes)
}
