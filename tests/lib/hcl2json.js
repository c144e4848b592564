// hcl2json.js: prints the JSON form of HCL files (Terraform, Packer) as
// @cdktf/hcl2json parses them: {"<FILE as given>": {...}, ...} on stdout.
// Usage: node tests/lib/hcl2json.js FILE...   Exit 1 on a parse error.
'use strict';

const fs = require('fs');
const path = require('path');
const { parse } = require('@cdktf/hcl2json');

async function main(files) {
    const out = {};
    for (const file of files) {
        const text = fs.readFileSync(file, 'utf8');
        out[file] = await parse(path.basename(file), text);
    }
    process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`hcl2json: ${e.message || e}\n`);
    process.exit(1);
});
