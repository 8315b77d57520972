// The resident flows of issue 13, each in a fresh phone-sized browser.
import { assert, idNumber, pixelPNG } from './util.mjs'

const DEMO_PASSWORD = 'healthcode2020'

/** Logs a resident in through the login page, reading the dev-mode SMS code the page shows. */
async function login(t, phone) {
  const { page } = t
  await page.goto('/')
  await page.waitForURL(/\/login/)
  await page.getByTestId('phone').locator('input').fill(phone)
  await t.shot('login')
  await page.getByTestId('send-code').click()
  const hint = page.getByTestId('dev-code')
  await hint.waitFor()
  const code = /(\d{6})/.exec(await hint.innerText())[1]
  await page.getByTestId('code').locator('input').fill(code)
  await t.shot('login-code-sent')
  await page.getByTestId('login').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
}

/** The resident's token, as the page keeps it (for the test's API calls on their behalf). */
async function residentToken(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('hc.resident.session') ?? '{}').token)
}

/** Picks the residence with the region picker: 西安市 → 雁塔区 → its first street → that street's first community. */
async function pickResidence(t, gql) {
  const { page } = t
  const token = await residentToken(page)
  const street = (await gql(token, `{ regions(parent: "610113", first: 1) { nodes { code name } } }`)).regions.nodes[0]
  const community = (await gql(token, `query($p: String) { regions(parent: $p, first: 1) { nodes { name } } }`, { p: street.code })).regions.nodes[0]
  await page.locator('.van-field', { hasText: '居住地' }).first().click()
  const popup = page.locator('.van-popup:visible .van-cascader')
  await popup.getByText('西安市', { exact: true }).click()
  await popup.getByText('雁塔区', { exact: true }).click()
  await popup.getByText(street.name, { exact: true }).click()
  await popup.getByText(community.name, { exact: true }).waitFor()
  await t.shot('region-picker')
  await popup.getByText(community.name, { exact: true }).click()
  await popup.waitFor({ state: 'hidden' })
}

async function fillIdentity(page, name, id, address) {
  await page.getByTestId('name').locator('input').fill(name)
  await page.getByTestId('docNumber').locator('input').fill(id)
  await page.getByTestId('address').locator('input').fill(address)
}

async function codeColour(page) {
  return page.getByTestId('code-card').getAttribute('data-colour')
}

export const flows = {
  /** A new resident logs in, declares ARRIVAL from a MEDIUM area, sees a yellow code with its reason, checks in. */
  async arrivalYellowThenCheckIn(t, { gql }) {
    const { page } = t
    // The provincial health officer (the demo account prov_health, HEALTH_OFFICER @ 61: a grant the province
    // admin makes alone stays pending, issue 12) designates 湖北省武汉市 (4201) a medium-risk area; MEDIUM from
    // none is no red, so it needs no second officer.
    const health = (await gql(null, `mutation($p: String!) { login(username: "prov_health", password: $p) { token } }`, { p: DEMO_PASSWORD })).login.token
    await gql(health, `mutation { setAreaRisk(region: "4201", level: MEDIUM, reason: "武汉市 中风险地区") { id } }`)

    await login(t, '13800000101')
    await page.getByTestId('no-code').waitFor()
    await t.shot('no-code-yet')
    await page.getByTestId('declare-now').click()
    await page.waitForURL(/\/declare/)
    await page.getByTestId('form').getByText('来陕返陕人员').click()
    await fillIdentity(page, '李来陕', idNumber('61011319900101101'), '雁塔路1号1单元101')
    await pickResidence(t, gql)
    const origin = page.getByTestId('place-origin')
    await origin.getByText('外省').click()
    await origin.locator('.van-field', { hasText: '出发地' }).click()
    const picker = page.locator('.van-picker')
    await picker.getByText('湖北省', { exact: true }).click()
    await picker.getByText('确认').click()
    await origin.getByText('湖北省武汉市', { exact: true }).click() // the designated area, listed by name
    await page.getByTestId('transport').locator('input').fill('G1234 次列车')
    await page.getByTestId('promise').click()
    await t.shot('declare-arrival')
    await page.getByTestId('submit-declaration').click()
    await page.waitForURL((u) => u.pathname === '/')
    await page.getByTestId('code-card').waitFor()
    assert((await codeColour(page)) === 'YELLOW', 'the code is yellow')
    assert((await page.getByTestId('colour-label').innerText()).includes('黄码'), 'the label says 黄码')
    const reason = await page.getByTestId('clause-Y1').innerText()
    assert(reason.includes('湖北省武汉市（中风险地区）'), `Y1 cites the medium-risk stay by the place's name: ${reason}`)
    await t.shot('code-yellow')

    await page.locator('.van-tabbar').getByText('打卡').click()
    await page.waitForURL(/\/check-in/)
    await page.getByTestId('checkin-temperature').locator('input').fill('36.4')
    await page.getByTestId('checkin-submit').click()
    await page.getByText('打卡成功').waitFor()
    await page.getByText('36.4℃').first().waitFor()
    await t.shot('check-in-done')
  },

  /** A guardian declares for themselves, adds a child, and shows the child's code. */
  async guardianAddsChild(t, { gql }) {
    const { page } = t
    await login(t, '13800000102')
    await page.goto('/declare')
    await fillIdentity(page, '王监护', idNumber('61011319800101102'), '小寨东路2号')
    await pickResidence(t, gql)
    // A trip inside Shaanxi (宝鸡市, no risk designated) keeps the code green.
    await page.getByTestId('add-trip').click()
    const trip = page.getByTestId('place-travel0')
    await trip.locator('.van-field', { hasText: '地点 1' }).click()
    const popup = page.locator('.van-popup:visible .van-cascader')
    await popup.getByText('宝鸡市', { exact: true }).click()
    await popup.locator('.van-cascader__option', { hasText: '渭滨区' }).click()
    const street = (await gql(await residentToken(page), `{ regions(parent: "610302", first: 1) { nodes { name } } }`)).regions.nodes[0].name
    await popup.getByText(street, { exact: true }).click()
    await popup.waitFor({ state: 'hidden' })
    await t.shot('declare-with-trip')
    await page.getByTestId('promise').click()
    await page.getByTestId('submit-declaration').click()
    await page.waitForURL((u) => u.pathname === '/')
    await page.getByTestId('code-card').waitFor()
    assert((await codeColour(page)) === 'GREEN', 'the guardian is green')
    await t.shot('guardian-code')

    await page.locator('.van-tabbar').getByText('我的').click()
    await page.getByTestId('to-dependents').click()
    await page.waitForURL(/\/dependents/)
    await page.getByTestId('add-dependent').click()
    await page.waitForURL(/\/declare/)
    await page.waitForFunction(() => (document.querySelector('[data-testid=target]'))?.value === 'new')
    await fillIdentity(page, '王小宝', idNumber('61011320180101103'), '小寨东路2号')
    await t.shot('declare-child')
    await page.getByTestId('promise').click()
    await page.getByTestId('submit-declaration').click()
    await page.waitForURL((u) => u.pathname === '/')
    await page.getByTestId('code-card').waitFor()
    const card = await page.getByTestId('code-card').innerText()
    assert(card.includes('王*宝') || card.includes('*宝'), `the code shown is the child's: ${card}`)
    assert(await page.getByTestId('person-switcher').isVisible(), 'a switcher between guardian and child')
    await t.shot('child-code')
    await page.getByTestId('person-switcher').getByText('王*监').or(page.getByTestId('person-switcher').getByText('王监护')).first().click()
    await page.waitForFunction(() => !document.querySelector('[data-testid=code-card]')?.textContent?.includes('宝'))
    await t.shot('switched-back')
    await page.goto('/dependents')
    await page.getByText('王小宝').waitFor()
    await t.shot('dependents')
  },

  /** A wrong fever scan: the resident appeals, a handler corrects it, the open code page turns green. */
  async feverAppealCorrected(t, { gql }) {
    const { page } = t
    await login(t, '13800000103')
    const token = await residentToken(page)
    const community = (await gql(token, `{ regions(parent: "610113001", first: 1) { nodes { code } } }`)).regions.nodes[0].code
    await gql(token, `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { code { colour } } }`, {
      in: { form: 'RESIDENT', name: '赵测温', docType: 'ID_CARD', docNumber: idNumber('61011319850101104'), phone: '13800000103',
        residence: community, address: '大雁塔北广场3号', temperature: 36.5 },
    })
    // A checkpoint records a wrong 38.6 ℃ for the resident.
    // The institution registers itself on the public form (机构注册登记), choosing its kind.
    const creditCode = `91610113MA6U00000${creditCheck('91610113MA6U00000')}`
    await page.goto('/console/register')
    await page.getByTestId('reg-name').fill('大雁塔商业管理公司')
    await page.getByTestId('reg-credit-code').fill(creditCode)
    await page.getByTestId('reg-kind-HOSPITAL').click()
    await page.getByTestId('reg-kind-VENUE').click()
    assert((await page.getByTestId('reg-kind-hint').textContent()).includes('接口密钥'), 'the kind hint names the machine client key')
    // The region from the cascader of public region names (no login): 西安市 → 雁塔区, chosen by its radio.
    await page.getByTestId('reg-region').click()
    const regionNode = (name) => page.locator('.reg-region-popper .el-cascader-node', { hasText: name }).first()
    await regionNode('西安市').click()
    await regionNode('雁塔区').locator('.el-radio').click()
    assert((await page.getByTestId('reg-region').locator('input').inputValue()).includes('雁塔区'), 'the cascader shows the chosen county')
    await page.keyboard.press('Escape')
    await page.getByTestId('reg-contact-name').fill('王经理')
    await page.getByTestId('reg-contact-phone').fill('13912345678')
    await page.getByTestId('reg-admin-username').fill('dyt_admin')
    await page.getByTestId('reg-admin-name').fill('王经理')
    await page.getByTestId('reg-admin-password').fill('admin-pass-2020')
    await page.getByTestId('reg-submit').click()
    await page.getByTestId('register-done').waitFor()
    // A self-registered institution starts PENDING until the county ADMIN approves it (issue 12).
    const yantaAdmin = (await gql(null, `mutation($p: String!) { login(username: "yanta_admin", password: $p) { token } }`, { p: DEMO_PASSWORD })).login.token
    const registered = (await gql(yantaAdmin, `{ institutions(region: "610113") { id creditCode status kind } }`)).institutions.find((i) => i.creditCode === creditCode)
    assert(registered?.status === 'PENDING' && registered.kind === 'VENUE', `registered on the form: ${JSON.stringify(registered)}`)
    const reg = { registerInstitution: { institution: { id: registered.id } } }
    await gql(yantaAdmin, `mutation($i: ID!) { approveInstitution(id: $i) { id } }`, { i: reg.registerInstitution.institution.id })
    const instAdmin = (await gql(null, `mutation { login(username: "dyt_admin", password: "admin-pass-2020") { token } }`)).login.token
    const venue = (await gql(instAdmin, `mutation($i: ID!) { createVenue(institutionId: $i, input: {name: "北广场入口", type: "INDOOR_PUBLIC", region: "610113"}) { id } }`,
      { i: reg.registerInstitution.institution.id })).createVenue.id
    await gql(instAdmin, `mutation($i: ID!) { createInspector(institutionId: $i, username: "dyt_inspector", displayName: "防疫员小李", password: "inspect-2020-ok") { id } }`,
      { i: reg.registerInstitution.institution.id })
    const inspector = (await gql(null, `mutation { login(username: "dyt_inspector", password: "inspect-2020-ok") { token } }`)).login.token
    const cred = (await gql(token, `{ myCredential { token } }`)).myCredential.token
    const scan = await gql(inspector, `mutation($s: [ScanInput!]!) { recordScans(scans: $s) { status fever } }`, {
      s: [{ scanId: '00000000-0000-4000-8000-0000000000e1', token: cred, venueId: venue, scannedAt: new Date().toISOString(), temperature: 38.6, role: 'VISITOR' }],
    })
    assert(scan.recordScans[0].status === 'ACCEPTED' && scan.recordScans[0].fever, `fever scan accepted: ${JSON.stringify(scan)}`)

    await page.goto('/')
    await page.getByTestId('code-card').waitFor()
    assert((await codeColour(page)) === 'YELLOW', 'the fever made the code yellow')
    await page.getByTestId('clause-Y2').waitFor()
    await t.shot('code-yellow-fever')

    await page.getByTestId('appeal').click()
    await page.waitForURL(/\/appeals\/new/)
    const fever = page.locator('[data-testid^=fact-HEALTH-]', { hasText: '38.6' })
    await fever.click()
    const factId = (await fever.getAttribute('data-testid')).replace('fact-HEALTH-', '')
    await page.getByTestId('appeal-reason').locator('textarea').fill('我当时体温正常，是测温枪离得太远测错了，附复测照片。')
    await page.getByTestId('evidence').setInputFiles({ name: '复测.png', mimeType: 'image/png', buffer: pixelPNG })
    await page.getByTestId('evidence-chosen').waitFor()
    await t.shot('appeal-form')
    await page.getByTestId('appeal-submit').click()
    await page.waitForURL(/\/appeals\?id=/)
    const ticketId = new URL(page.url()).searchParams.get('id')
    await page.getByTestId(`appeal-${ticketId}`).waitFor()
    await t.shot('appeal-filed')

    // The resident waits on the code page; the 12320 operator dispatches, the
    // Yanta handler signs and retracts the wrong reading.
    await page.locator('.van-tabbar').getByText('健康码').click()
    await page.getByTestId('code-card').waitFor()
    await gql(yantaAdmin, `mutation { createHandlingUnit(region: "610113", name: "雁塔区疫情防控指挥部办公室") { id } }`)
    const operator = (await gql(null, `mutation($p: String!) { login(username: "operator", password: $p) { token } }`, { p: DEMO_PASSWORD })).login.token
    const handler = (await gql(null, `mutation($p: String!) { login(username: "yanta_handler", password: $p) { token } }`, { p: DEMO_PASSWORD })).login.token
    await gql(operator, `mutation($id: ID!) { dispatchTicket(id: $id) { state } }`, { id: ticketId })
    await gql(handler, `mutation($id: ID!) { signTicket(id: $id) { state } }`, { id: ticketId })
    await gql(handler, `mutation($id: ID!, $f: ID!) { resolveAppeal(id: $id, text: "经核实为测温误差，已撤销该体温记录", correction: {retractKind: HEALTH, retractId: $f}) { state } }`,
      { id: ticketId, f: factId })
    const url = page.url()
    await page.waitForFunction(() => document.querySelector('[data-testid=code-card]')?.getAttribute('data-colour') === 'GREEN', null, { timeout: 30_000 })
    assert(page.url() === url, 'no navigation happened')
    await t.shot('code-green-after-correction')

    await page.locator('.van-tabbar').getByText('申诉').click()
    const card = page.getByTestId(`appeal-${ticketId}`)
    await card.getByText('申诉纠正').first().waitFor()
    await card.getByText('基本满意').click()
    await card.getByRole('button', { name: '提交评价' }).click()
    await card.getByTestId('rating').waitFor()
    await t.shot('appeal-rated')
  },

  /** Personal information corrected, logout, an expired session, an unknown page, and the other two entries. */
  async accountAndEntries(t, { gql }) {
    const { page } = t
    await login(t, '13800000104')
    const token = await residentToken(page)
    const community = (await gql(token, `{ regions(parent: "610113001", first: 1) { nodes { code } } }`)).regions.nodes[0].code
    await gql(token, `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { code { colour } } }`, {
      in: { form: 'PUBLIC_SECTOR', name: '孙公务', docType: 'ID_CARD', docNumber: idNumber('61011319750101105'), phone: '13800000104',
        residence: community, address: '含光路1号', employer: '雁塔区人民政府', temperature: 36.6 },
    })
    // Re-declared with a trip abroad: red, citing R1.
    await page.goto('/declare')
    await page.getByTestId('add-trip').click()
    const trip = page.getByTestId('place-travel0')
    await trip.getByText('境外').click()
    await trip.locator('.van-field', { hasText: '国家或地区' }).click()
    const picker = page.locator('.van-picker')
    await picker.getByText('日本', { exact: true }).click()
    await picker.getByText('确认').click()
    await page.getByTestId('promise').click()
    await t.shot('declare-abroad')
    await page.getByTestId('submit-declaration').click()
    await page.waitForURL((u) => u.pathname === '/')
    await page.getByTestId('clause-R1').waitFor()
    assert((await codeColour(page)) === 'RED', 'a trip abroad makes the code red')
    assert((await page.getByTestId('clause-R1').innerText()).includes('境外'), 'R1 names the trip abroad')
    await t.shot('code-red')

    await page.locator('.van-tabbar').getByText('我的').click()
    await page.getByTestId('to-correct').click()
    await page.waitForURL(/\/me\/correct/)
    await page.getByTestId('correct-address').locator('input').fill('含光路2号3单元')
    await t.shot('correct-info')
    await page.getByTestId('correct-submit').click()
    await page.getByText('已保存，健康码已重新评估').waitFor()
    const persons = await gql(token, `{ myDependents { address } }`)
    assert(persons.myDependents[0].address === '含光路2号3单元', `address corrected: ${JSON.stringify(persons)}`)

    await page.goto('/me')
    await page.getByTestId('logout').click()
    await t.shot('logout-confirm')
    await page.getByRole('dialog').getByRole('button', { name: '退出登录' }).click()
    await page.waitForURL(/\/login\?logout=1/)
    await page.getByText('您已退出登录').waitFor()
    await t.shot('logged-out')

    // A session past its expiry is dropped before any request: back to the login page.
    await page.evaluate(() =>
      localStorage.setItem('hc.resident.session', JSON.stringify({ token: 'hcr_x', expiresAt: '2020-01-01T00:00:00Z', kind: 'RESIDENT', name: 'x' })),
    )
    await page.goto('/appeals')
    await page.waitForURL(/\/login/)

    // The login page works from the keyboard: phone, send code, code, remember, log in.
    await page.goto('/login')
    const focused = () => page.evaluate(() => document.activeElement?.closest('[data-testid]')?.getAttribute('data-testid') ?? document.activeElement?.getAttribute('name'))
    await page.keyboard.press('Tab')
    assert((await focused()) === 'phone', 'Tab reaches the phone first')
    await page.keyboard.type('13800000106')
    await page.keyboard.press('Tab')
    assert((await focused()) === 'code', 'then the code')
    await page.keyboard.press('Tab')
    assert((await focused()) === 'send-code', 'then the send button')
    await page.keyboard.press('Enter')
    await page.getByTestId('dev-code').waitFor()
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.type(/(\d{6})/.exec(await page.getByTestId('dev-code').innerText())[1])
    await page.keyboard.press('Enter')
    await page.waitForURL((u) => !u.pathname.startsWith('/login'))
    await page.goto('/no/such/page')
    await page.getByText('页面不存在').first().waitFor()

    await page.goto('/scan')
    await page.getByText('扫码查验').first().waitFor()
    await t.shot('scan-entry')
    await page.goto('/console/')
    await page.getByLabel('用户名').fill('admin')
    await page.getByLabel('密码').fill(DEMO_PASSWORD)
    await page.getByRole('button', { name: '登录' }).click()
    await page.getByText('admin，您好').waitFor()
    await t.shot('console-entry')
  },
}

/** The check character of a unified social credit code (GB 32100). */
function creditCheck(first17) {
  const chars = '0123456789ABCDEFGHJKLMNPQRTUWXY'
  const w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
  let s = 0
  for (let i = 0; i < 17; i++) s += chars.indexOf(first17[i]) * w[i]
  return chars[(31 - (s % 31)) % 31]
}
