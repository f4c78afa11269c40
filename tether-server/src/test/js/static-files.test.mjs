// The pages' scripts run only in a browser (chat.e2e.mjs); here they are at least parsed, so that a
// syntax error fails the fast suite too.
import {it} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

const STATIC = fileURLToPath(new URL('../../main/resources/static/', import.meta.url));

for (const file of readdirSync(STATIC).filter((f) => f.endsWith('.js'))) {
  it(`${file} parses as an ES module`, () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '--check'], {input: readFileSync(STATIC + file)});
    assert.equal(r.status, 0, r.stderr.toString());
  });
}

it('the pages load only same-origin resources', () => {
  for (const file of readdirSync(STATIC).filter((f) => /\.(html|css|js)$/.test(f))) {
    const text = readFileSync(STATIC + file, 'utf8');
    assert.doesNotMatch(text, /(src|href)=["']?(https?:)?\/\//, `${file} refers to another origin`);
    assert.doesNotMatch(text, /@import\s+url\(["']?https?:/, `${file} imports from another origin`);
  }
});
