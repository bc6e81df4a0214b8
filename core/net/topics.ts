/**
 * Discovery topics. Hashing a namespaced label keeps Tandem's topics apart from every other app on
 * the public DHT, and a project's topic is derived from its key so only those who know the key can
 * find its peers.
 */
import crypto from 'hypercore-crypto'

const DISCOVERY_LABEL = 'tandem/discovery/v1'
const PROJECT_LABEL = 'tandem/project/v1'

/** The global topic where project hosts announce and contributors look for projects. */
export function discoveryTopic(): Buffer {
  return crypto.hash(Buffer.from(DISCOVERY_LABEL))
}

/**
 * The topic of one dataset: its core's discovery key (a hash that does not reveal the key). Every
 * node holding the dataset announces here (SwarmNode.joinDataset), so a client given only the
 * dataset key finds peers to download from, whichever projects use it.
 */
export function datasetTopic(datasetKey: Uint8Array): Buffer {
  return crypto.discoveryKey(Buffer.from(datasetKey))
}

/** The topic of one project: its host, contributors and seeders meet here. */
export function projectTopic(projectKey: Uint8Array): Buffer {
  return crypto.hash([Buffer.from(PROJECT_LABEL), projectKey])
}
