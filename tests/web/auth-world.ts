import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProjectRole } from '../../schema/enums';
import { addMember, createUser } from '../../server/auth/users';
import { scratchDatabase } from '../support/databases';
import { seedProject } from '../support/fixtures';
import { TestServer } from '../support/server';

export const ADA_PASSWORD = 'correct horse battery';

export interface AuthWorld {
  readonly server: TestServer;
  stop(): Promise<void>;
}

/**
 * A project made over the API the way a local install makes one, then the same database served
 * with authentication on, and ada (password ADA_PASSWORD) made the project's owner.
 */
export async function startAuthWorld(prefix: string): Promise<AuthWorld> {
  const scratch = await scratchDatabase('sqlite');
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const local = await TestServer.start('sqlite', [], { database: scratch.target, dataDir });
  const { projectId } = await seedProject(local, 'ada-project');
  await local.stop({ keepData: true });
  const server = await TestServer.start('sqlite', [], { database: scratch.target, dataDir }, { auth: true });
  const ada = await createUser(server.server.orm, { name: 'ada', password: ADA_PASSWORD, admin: false });
  await addMember(server.server.orm, projectId, ada.id, ProjectRole.OWNER);
  return {
    server,
    async stop() {
      await server.stop({ keepData: true });
      await scratch.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
