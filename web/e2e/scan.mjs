// The checkpoint scanner's flow of issue 15, on a phone (375 × 812): an
// inspector loads the scanner, the network is cut, three codes are scanned by
// manual entry — a fever, a revoked paper code, a trusted foreign issuer's —
// and each shows its outcome offline; the page is reloaded offline (the
// service worker serves the app, the queue survives); the network returns and
// the scans upload with their results; the fever makes the person yellow and
// reaches the community's fever inbox.
import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { assert, idNumber } from './util.mjs'
import { residentLogin, staffLogin, token } from './console.mjs'

const b64url = (b) => Buffer.from(b).toString('base64url')

/** A foreign issuer (湖北省, "42") with its own Ed25519 key: its keys.json and a signer. */
export function foreignIssuer(now = new Date()) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const x = publicKey.export({ format: 'jwk' }).x
  const kid = b64url(createHash('sha256').update(Buffer.from(x, 'base64url')).digest().subarray(0, 8))
  const keysJson = JSON.stringify({
    issuers: [{ id: '42', name: '湖北省' }],
    keys: [{ kty: 'OKP', crv: 'Ed25519', x, kid, iss: '42', alg: 'EdDSA', use: 'sig' }],
    generatedAt: now.toISOString().replace(/\.\d+Z$/, 'Z'),
  })
  const signToken = (claims) => {
    const input = `${b64url(JSON.stringify({ alg: 'EdDSA', kid, typ: 'hc+jwt' }))}.${b64url(JSON.stringify(claims))}`
    return `${input}.${b64url(sign(null, Buffer.from(input), privateKey))}`
  }
  return { keysJson, signToken }
}

/** Types a token into the manual entry and verifies it; returns the result's colour and the verification time. */
async function scan(t, tok) {
  const { page } = t
  await page.getByTestId('manual-token').locator('textarea').fill(tok)
  await page.getByTestId('verify').click()
  const result = page.getByTestId('result')
  await result.waitFor()
  return { colour: await result.getAttribute('data-colour'), ms: Number(await page.getByTestId('verify-ms').getAttribute('data-ms')) }
}

async function typeTemperature(page, digits) {
  for (const d of digits) await page.getByTestId(`key-${d}`).click()
}

export const scanFlows = {
  async scannerOffline(t, { gql, open }) {
    const { page, context } = t
    const admin = await token(gql, 'admin')
    const health = await token(gql, 'yanta_health')
    const street = (await gql(admin, `{ regions(parent: "610113", first: 1) { nodes { code } } }`)).regions.nodes[0].code
    const community = (await gql(admin, `query($s: String) { regions(parent: $s, first: 1) { nodes { code } } }`, { s: street })).regions.nodes[0].code

    // 1. A Yanta resident's electronic code (green): the fever scan.
    const phone = '13800000301'
    const resident = await residentLogin(gql, phone)
    await gql(resident.token, `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { code { colour } } }`, {
      in: { form: 'RESIDENT', name: '孙发热', docType: 'ID_CARD', docNumber: idNumber('61011319800101301'), phone, residence: community, address: '长安南路1号', temperature: 36.5 },
    })
    const electronic = (await gql(resident.token, `{ myCredential { token } }`)).myCredential.token

    // 2. A paper code printed for a person without a phone, then reprinted: the first is revoked.
    const person = (await gql(health, `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { person { id } } }`, {
      in: { form: 'RESIDENT', name: '周老伯', docType: 'ID_CARD', docNumber: idNumber('61011319400101302'), phone: '', residence: community, address: '长安南路2号', temperature: 36.4 },
    })).submitDeclaration.person.id
    const paper1 = (await gql(health, `mutation($p: ID!) { issuePaperCode(personId: $p) { token } }`, { p: person })).issuePaperCode.token
    await gql(health, `mutation($p: ID!) { issuePaperCode(personId: $p) { token } }`, { p: person })

    // 3. 湖北省 joins the trust list; a code it signed.
    const hubei = foreignIssuer()
    await gql(admin, `mutation($in: TrustedIssuerInput!) { addTrustedIssuer(input: $in) { id } }`, { in: { issuerId: '42', name: '湖北省', keysJson: hubei.keysJson } })
    const nowS = Math.floor(Date.now() / 1000)
    const foreign = hubei.signToken({ iss: '42', cid: 'hb_1001', col: 'GREEN', nm: '吴*', knd: 'ELECTRONIC', iat: nowS - 30, exp: nowS + 600, jti: 'hb-e2e-1' })

    // The inspector logs in, chooses a venue and the visitor mode.
    await page.goto('/scan/')
    await page.getByLabel('用户名').fill('yanta_inspector')
    await page.getByLabel('密码').fill('healthcode2020')
    await t.shot('login')
    await page.getByTestId('login').click()
    await page.getByTestId('start').waitFor()
    await page.getByText('雁塔区演示综合超市').click()
    await page.getByTestId('mode-VISITOR').click()
    await t.shot('setup')
    await page.getByTestId('start').click()
    await page.getByTestId('keys-age').getByText('刚刚更新').waitFor()
    await page.getByTestId('revocations-age').getByText('刚刚更新').waitFor()
    // The service worker has installed the app and controls the page.
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: 30_000 })
    await t.shot('ready')

    // Offline: the page and the service worker lose the network.
    const offlineRoute = (route) => (route.request().serviceWorker() ? route.abort('internetdisconnected') : route.continue())
    await context.setOffline(true)
    await context.route('**', offlineRoute)
    await page.getByTestId('network').getByText('离线').waitFor()

    const times = []
    let r = await scan(t, electronic)
    times.push(r.ms)
    assert(r.colour === 'GREEN', `the resident's code is green offline (got ${r.colour})`)
    assert((await page.getByTestId('result-name').innerText()) === '孙*热', 'the masked name')
    await typeTemperature(page, '386')
    await t.shot('fever-entry')
    await page.getByTestId('record').click()
    await page.getByTestId('fever').waitFor()
    assert((await page.getByTestId('fever-reading').innerText()).includes('38.6'), 'the fever outcome shows the reading')
    await t.shot('fever-outcome')
    await page.getByTestId('fever-done').click()

    r = await scan(t, paper1)
    times.push(r.ms)
    assert(r.colour === 'INVALID', `the superseded paper code is refused offline (got ${r.colour})`)
    assert((await page.getByTestId('result-message').innerText()).includes('已作废'), 'revoked, said in Chinese')
    await t.shot('revoked-paper-code')
    await typeTemperature(page, '364')
    await page.getByTestId('record').click()

    r = await scan(t, foreign)
    times.push(r.ms)
    assert(r.colour === 'GREEN', `湖北省's code is recognised offline (got ${r.colour})`)
    assert((await page.getByTestId('result').innerText()).includes('湖北省'), 'the foreign issuer is named')
    await t.shot('foreign-issuer')
    await typeTemperature(page, '365')
    await page.getByTestId('record').click()
    await page.getByTestId('pending').getByText('待上传 3').waitFor()

    // A reload without network: the service worker serves the app, the queue is still there.
    const res = await page.reload()
    assert(res?.fromServiceWorker(), 'the reloaded page came from the service worker')
    await page.getByTestId('pending').getByText('待上传 3').waitFor()
    await page.getByTestId('network').getByText('离线').waitFor()
    await page.getByTestId('open-queue').click()
    await page.getByTestId('scan-list').getByText('待上传').first().waitFor()
    await t.shot('queue-offline-after-reload')

    // The network returns: the scans upload, each with its answer.
    await context.unroute('**', offlineRoute)
    await context.setOffline(false)
    await page.getByTestId('upload-summary').waitFor({ timeout: 30_000 })
    const summary = await page.getByTestId('upload-summary').innerText()
    assert(summary.includes('接收 2') && summary.includes('拒绝 1'), `two accepted, one rejected: ${summary}`)
    const rejected = await page.getByTestId('reject-reason').innerText()
    assert(rejected.includes('已作废'), `the paper code was rejected as revoked: ${rejected}`)
    await t.shot('queue-uploaded')

    // The fever made the resident yellow; the report is in the community's inbox.
    const code = (await gql(resident.token, `{ myCode { colour clauses { id } } }`)).myCode
    assert(code.colour === 'YELLOW' && code.clauses.some((c) => c.id === 'Y2'), `the fever turned the code yellow: ${JSON.stringify(code)}`)
    const reports = (await gql(health, `{ feverReports(status: "OPEN") { maskedName temperature venueName } }`)).feverReports
    assert(reports.some((f) => f.maskedName === '孙*热' && f.temperature === 38.6), 'the fever report reached the community')
    // The community's health officer sees it in the console's fever inbox and closes it.
    const desk = await open('desktop', 'community')
    await staffLogin(desk, 'yanta_health')
    await desk.page.getByTestId('menu-fevers').click()
    const report = desk.page.getByTestId('fevers-table').locator('tr', { hasText: '孙*热' }).first()
    await report.getByText('38.6').waitFor()
    await desk.shot('fever-inbox')
    await report.getByRole('button', { name: '已转诊发热门诊' }).click()
    await desk.page.getByText('已办结').waitFor()
    console.log(`    offline verification: ${times.map((x) => x.toFixed(2)).join(', ')} ms (WebCrypto Ed25519, Chromium)`)
    return { feverPerson: '孙*热' }
  },
}
