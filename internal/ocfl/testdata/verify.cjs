// Opens an OCFL storage root with an independent implementation (@ocfl/ocfl-fs) and reads
// every file of every version of the named objects, checking each digest.
// Usage: NODE_PATH=<node_modules> node verify.cjs ROOT WORKSPACE ID...
const ocfl = require('@ocfl/ocfl-fs');
const crypto = require('crypto');

(async () => {
  const [root, workspace, ...ids] = process.argv.slice(2);
  const storage = ocfl.storage({ root, workspace });
  await storage.load();
  let files = 0, versions = 0;
  const algorithms = {};
  for (const id of ids) {
    const obj = storage.object(id);
    await obj.load();
    const inv = await obj.getInventory();
    if (inv.id !== id) throw new Error(`${id}: inventory names ${inv.id}`);
    algorithms[id] = inv.digestAlgorithm;
    for (const v of Object.keys(inv.versions)) {
      versions++;
      for (const f of await obj.files(v)) {
        const buf = await f.buffer();
        const digest = crypto.createHash(inv.digestAlgorithm).update(buf).digest('hex');
        if (digest !== f.digest) throw new Error(`${id} ${v} ${f.logicalPath}: digest ${digest} != ${f.digest}`);
        files++;
      }
    }
  }
  console.log(JSON.stringify({ objects: ids.length, versions, files, algorithms }));
})().catch((e) => { console.error(e && e.stack || String(e)); process.exit(1); });
