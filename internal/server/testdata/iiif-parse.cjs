// Reads a IIIF Presentation 3 document on stdin the way viewers built on @iiif/parser do:
// the strict upgrader reports what it had to repair, and normalize sorts every resource by
// type. Prints {"type", "warnings", "counts"} for the Go test to judge.
const fs = require("fs");
const { normalize } = require("@iiif/parser");
const { presentation3StrictUpgrade } = require("@iiif/parser/strict");

const doc = JSON.parse(fs.readFileSync(0, "utf8"));
const warnings = [];
if (doc.type === "Manifest") {
  presentation3StrictUpgrade(JSON.parse(JSON.stringify(doc)), { warnings });
}
const n = normalize(doc);
const counts = {};
for (const [type, records] of Object.entries(n.entities)) {
  counts[type] = Object.keys(records).length;
}
process.stdout.write(JSON.stringify({ type: n.resource.type, warnings, counts }));
