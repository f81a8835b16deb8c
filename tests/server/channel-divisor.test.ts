import { Device } from '../../server/entities';
import { DATABASES } from '../support/databases';
import { seedProject } from '../support/fixtures';
import { TestServer } from '../support/server';

interface Unit {
  name: string;
  max: number;
  choices: number[];
}

describe.each(DATABASES)("channel lists against the search space's divisor on %s", (kind) => {
  let server: TestServer;
  let spaceId: string;
  let maxChannels: number[];
  let unit: Unit & { members: number[] };
  let deviceId: string;

  beforeAll(async () => {
    server = await TestServer.start(kind);
    const seeded = await seedProject(server, 'divisor');
    spaceId = seeded.space.id;
    maxChannels = seeded.space.maxChannels;
    const { searchSpace } = await server.gql(`query($id: ID!) { searchSpace(id: $id) { divisor units { name max choices members } } }`, { id: spaceId });
    expect(searchSpace.divisor).toBe(8);
    unit = searchSpace.units.find((u: Unit) => u.max > 16 && u.max % 8 === 0);
    const em = server.server.orm.em.fork();
    const device = em.create(Device, { fingerprint: 'f'.repeat(64), host: 'h', cpuModel: 'c', cores: 1, threads: 1, runtime: 'r', provider: 'cpu', os: 'o', versions: {} });
    await em.flush();
    deviceId = device.id;
  });

  afterAll(async () => {
    await server.stop();
  });

  /** The widest list with one unit (all its coupled slots) at `width`. */
  const withUnitAt = (width: number) => maxChannels.map((c, i) => (unit.members.includes(i) ? width : c));

  it('importCandidate rejects a unit width that is not a multiple of the divisor, naming the entry', async () => {
    expect(
      await server.gqlError(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { id } }`, { s: spaceId, c: withUnitAt(12) }),
    ).toMatchObject({
      message: `input.channels[${unit.members[0]}]: unit ${unit.name} has 12 channels; this search space takes multiples of 8, or the unit's widest (${unit.max})`,
      extensions: { code: 'BAD_USER_INPUT', field: `input.channels[${unit.members[0]}]` },
    });
    const { importCandidate } = await server.gql(`mutation($s: ID!, $c: [Int!]!) { importCandidate(input: { searchSpaceId: $s, channels: $c }) { channels } }`, {
      s: spaceId,
      c: withUnitAt(16),
    });
    expect(importCandidate.channels).toEqual(withUnitAt(16));
  });

  it('measureLatency rejects the same list', async () => {
    const measure = (c: number[]) =>
      server.raw(`mutation($d: ID!, $s: ID!, $c: [Int!]!) { measureLatency(input: { deviceId: $d, searchSpaceId: $s, channels: $c }) { id } }`, { d: deviceId, s: spaceId, c });
    expect((await measure(withUnitAt(12))).errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: `input.channels[${unit.members[0]}]` } });
    expect((await measure(withUnitAt(16))).errors).toBeUndefined();
  });
});
