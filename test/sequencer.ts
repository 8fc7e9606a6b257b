/**
 * The order of a lane's files: largest first, the same on every machine. Vitest's own order puts
 * the files that took longest last time first, which a fresh clone (CI) does not have: it falls
 * back to file size, so a local run would see other neighbours than CI. Size is the fresh
 * machine's order everywhere, with the path to break ties.
 */
import { statSync } from 'node:fs';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export default class SizeSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const size = new Map(files.map((f) => [f.moduleId, statSync(f.moduleId).size]));
    return [...files].sort((a, b) => size.get(b.moduleId)! - size.get(a.moduleId)! || a.moduleId.localeCompare(b.moduleId));
  }
}
