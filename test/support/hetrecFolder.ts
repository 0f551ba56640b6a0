import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { seededRandom } from '../../src/model/random.ts';

/** A HetRec-shaped folder: 4 taste groups of 20 artists, 90 users, a few plays each. */
export function writeHetrecFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'eval-cli-'));
  const random = seededRandom(9);
  const artists = ['id\tname\turl\tpictureURL'];
  for (let id = 1; id <= 80; id++) artists.push(`${id}\tBand ${id}\thttp://x/${id}\t`);
  const plays = ['userID\tartistID\tweight'];
  for (let user = 1; user <= 90; user++) {
    const group = user % 4;
    for (let a = 1; a <= 20; a++) {
      if (random() >= 0.45) continue;
      plays.push(`${user}\t${group * 20 + a}\t${1 + Math.floor(random() * 300)}`);
    }
  }
  writeFileSync(join(folder, 'artists.dat'), artists.join('\r\n') + '\r\n');
  writeFileSync(join(folder, 'user_artists.dat'), plays.join('\r\n') + '\r\n');
  writeFileSync(join(folder, 'tags.dat'), 'tagID\ttagValue\r\n1\trock\r\n');
  writeFileSync(
    join(folder, 'user_taggedartists.dat'),
    'userID\tartistID\ttagID\tday\tmonth\tyear\r\n1\t1\t1\t1\t1\t2009\r\n',
  );
  return folder;
}
