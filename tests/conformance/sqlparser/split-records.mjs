// split-records.mjs DIR — writes each record of corpus.mjs's output (stdin) to DIR/NNNN.sql, its family to
// DIR/NNNN.family.
import fs from 'node:fs'
const [dir] = process.argv.slice(2)
fs.mkdirSync(dir, { recursive: true })
const records = fs.readFileSync(0, 'utf8').split('-- @@\n').filter(r => r.startsWith('-- family: '))
records.forEach((r, i) => {
  const nl = r.indexOf('\n')
  const name = `${dir}/${String(i).padStart(4, '0')}`
  fs.writeFileSync(`${name}.sql`, r.slice(nl + 1).replace(/\n$/, ''))
  fs.writeFileSync(`${name}.family`, r.slice('-- family: '.length, nl))
})
