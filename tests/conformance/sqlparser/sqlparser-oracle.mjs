// sqlparser-oracle.mjs — the real sqlparser 0.61 (Rust crate, as WebAssembly: npm @guanmingchiu/sqlparser-ts
// 0.61.1, the build ../shared/oracle7's shim uses) deciding, per file, what Prisma >= 7.4's schema engine decides:
// split the file into statements when sqlparser's PostgreSQL dialect parses the whole file, else send it whole.
// Reads file names, one per line, on stdin; prints "split<TAB>FILE" or "whole<TAB>FILE<TAB>sqlparser's error".
import fs from 'node:fs'
import readline from 'node:readline'

const sqlparser = await import('@guanmingchiu/sqlparser-ts')
await sqlparser.init()
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const file of rl) {
  if (!file) continue
  const sql = fs.readFileSync(file, 'utf8')
  try {
    sqlparser.parse(sql, 'postgresql')
    process.stdout.write(`split\t${file}\n`)
  } catch (e) {
    process.stdout.write(`whole\t${file}\t${String(e.message ?? e).replace(/\s+/g, ' ')}\n`)
  }
}
