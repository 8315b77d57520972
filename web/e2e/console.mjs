// The staff console's flows of issue 14, each at 1280 × 800 against the demo
// province (screens also saved at 1920 × 1080): the 12320 operator and the
// handling units, the appeal desk, and the supervisor.
import { readFileSync } from 'node:fs'
import { assert, idNumber, pixelPNG } from './util.mjs'
import { readSheet } from './xlsx.mjs'

export const DEMO_PASSWORD = 'healthcode2020'
export const WIDE = { sizes: [[1920, 1080]] }

/** Logs a staff member in through the console's login page. */
export async function staffLogin(t, username) {
  const { page } = t
  await page.goto('/console/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码').fill(DEMO_PASSWORD)
  await page.getByRole('button', { name: '登录' }).click()
  await page.waitForURL((u) => !u.pathname.includes('/login'))
  await page.getByTestId('account').waitFor()
}

export async function token(gql, username, password = DEMO_PASSWORD) {
  return (await gql(null, `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`, { u: username, p: password })).login.token
}

/** A resident's session through the API (the SMS code from the dev outbox). */
export async function residentLogin(gql, phone) {
  await gql(null, `mutation($p: String!) { requestSmsCode(phone: $p) }`, { p: phone })
  let msgs = []
  for (let i = 0; i < 100 && !msgs.length; i++) {
    // The worker delivers the text message from the outbox.
    msgs = (await gql(null, `query($p: String!) { devMessages(phone: $p) { body } }`, { p: phone })).devMessages
    if (!msgs.length) await new Promise((r) => setTimeout(r, 100))
  }
  const code = /(\d{6})/.exec(msgs[msgs.length - 1].body)[1]
  return (await gql(null, `mutation($p: String!, $c: String!) { loginResident(phone: $p, code: $c) { token expiresAt } }`, { p: phone, c: code })).loginResident
}

/** Picks an option of an Element Plus select by its visible text. */
export async function pick(page, select, text) {
  await select.click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item').getByText(text, { exact: true }).click()
}

/** Opens an action of the ticket's action panel, fills its form and confirms. */
async function act(t, action, fill = async () => {}) {
  const { page } = t
  await page.getByTestId(`action-${action}`).click()
  const form = page.getByTestId('action-form')
  if (await form.isVisible().catch(() => false)) {
    await fill(page.locator('.el-dialog:visible'))
    await page.getByTestId('action-submit').click()
    await form.waitFor({ state: 'hidden' })
  }
}

async function ticketState(page, label) {
  await page.getByTestId('ticket-state').getByText(label, { exact: true }).waitFor({ timeout: 15_000 })
}

export const consoleFlows = {
  /**
   * An operator takes a call and dispatches it to 雁塔区; the Yanta handler signs (S in the queue) and returns it (the
   * place is in 新城区); the operator corrects the place and dispatches to 新城区's unit; that unit replies; the
   * operator records the callback, which closes the ticket.
   */
  async hotlineTicketLifecycle(t, { open }) {
    const { page } = t
    await staffLogin(t, 'operator')
    await t.shot('operator-home')
    await page.getByTestId('menu-queue').click()
    await page.getByTestId('queue-table').waitFor()
    await page.getByTestId('live').getByText('实时').waitFor()
    await t.shot('operator-queue', WIDE)

    await page.getByTestId('menu-newTicket').click()
    await page.getByTestId('caller-phone').fill('13900001111')
    await page.getByTestId('caller-phone').press('Enter')
    assert((await page.getByTestId('caller-masked').innerText()) === '139****1111', 'the caller phone is masked once entered')
    await page.getByTestId('kind').getByText('投诉').click()
    await pick(page, page.getByTestId('region-level-4'), '西安市')
    await pick(page, page.getByTestId('region-level-6'), '雁塔区')
    await page.getByTestId('subject').fill('商场入口不查验健康码')
    await page.getByTestId('description').fill('来电人反映雁塔路某商场入口无人查验健康码，也不测温。')
    await t.shot('new-ticket', WIDE)
    await page.getByTestId('save-dispatch').click()
    await page.waitForURL(/\/console\/tickets\/\d+$/)
    const id = /tickets\/(\d+)$/.exec(page.url())[1]
    await ticketState(page, '已派单')
    assert((await page.getByTestId('ticket-page').innerText()).includes('雁塔区卫生健康局12320承办组'), 'dispatched to the Yanta unit')
    await t.shot('dispatched')

    // The Yanta handler signs from the queue with the keyboard, then returns it.
    const h = await open('desktop', 'yanta-handler')
    await staffLogin(h, 'yanta_handler')
    await h.page.goto('/console/tickets')
    const row = h.page.locator(`.ticket-${id}`)
    await row.waitFor()
    await row.click()
    await h.page.keyboard.press('s')
    await h.page.getByText(`工单 #${id} 已签收`).waitFor()
    await h.shot('handler-signed-by-keyboard')
    await h.page.goto(`/console/tickets/${id}`)
    await ticketState(h.page, '已签收')
    await act(h, 'RETURN', (d) => d.getByTestId('field-reason').fill('事发地在新城区，不属本单位辖区'))
    await h.page.waitForURL(/\/console\/tickets$/)
    await h.shot('handler-returned')

    // The operator's open ticket page follows the return live, corrects the place, dispatches again.
    await ticketState(page, '受理')
    await act(t, 'CORRECT_PLACE', async (d) => {
      await pick(page, d.getByTestId('region-level-4'), '西安市')
      await pick(page, d.getByTestId('region-level-6'), '新城区')
      await d.getByTestId('field-reason').fill('来电人确认商场位于新城区')
    })
    await page.getByTestId('timeline').getByText('更正事发地').waitFor()
    await act(t, 'DISPATCH', (d) => pick(page, d.getByTestId('field-unit'), '新城区卫生健康局12320承办组（新城区）'))
    await ticketState(page, '已派单')
    await t.shot('rerouted')

    // Another unit (新城区, worked by the demo's province-wide handler) signs and replies.
    const x = await open('desktop', 'xincheng-handler')
    await staffLogin(x, 'hotline_handler')
    await x.page.goto(`/console/tickets/${id}`)
    await act(x, 'SIGN')
    await ticketState(x.page, '已签收')
    await act(x, 'REPLY', (d) => d.getByTestId('field-text').fill('经核查，已责令该商场在入口设置查验点，落实扫码测温。'))
    await ticketState(x.page, '已答复')
    await x.shot('replied', WIDE)

    // The operator records the callback: satisfied, the ticket is closed.
    await ticketState(page, '已答复')
    await act(t, 'CALLBACK', (d) => d.getByTestId('field-satisfaction').getByText('满意', { exact: true }).click())
    await ticketState(page, '已办结')
    const timeline = await page.getByTestId('timeline').innerText()
    for (const step of ['派单', '签收', '退单', '更正事发地', '答复', '回访']) assert(timeline.includes(step), `the timeline shows ${step}`)
    assert(timeline.includes('新城区卫生健康局12320承办组') && timeline.includes('雁塔区卫生健康局12320承办组'), 'the timeline names both units')
    await t.shot('closed', WIDE)

    // The Yanta unit's dashboard counts the return.
    await h.page.getByTestId('menu-units').click()
    const unitRow = h.page.getByTestId('units-table').locator('tr', { hasText: '雁塔区卫生健康局12320承办组' })
    await unitRow.waitFor()
    await h.shot('unit-dashboard', WIDE)
  },

  /**
   * An appeal arrives live in the operator's open queue (no reload); the operator dispatches it; the Yanta handler
   * signs it on the appeal desk, sees the disputed reading with its evidence, retracts it, and the resident's code
   * page, left open, turns green.
   */
  async appealLiveToGreen(t, { gql, open }) {
    const { page } = t
    // A Yanta resident declared 38.6 ℃ by mistake: yellow (Y2).
    const phone = '13800000201'
    const session = await residentLogin(gql, phone)
    const community = (await gql(session.token, `{ regions(parent: "610113001", first: 1) { nodes { code } } }`)).regions.nodes[0].code
    await gql(session.token, `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { code { colour } } }`, {
      in: { form: 'RESIDENT', name: '钱误填', docType: 'ID_CARD', docNumber: idNumber('61011319880101201'), phone, residence: community,
        address: '小寨路9号', temperature: 38.6 },
    })
    const r = await open('phone', 'resident')
    await r.page.goto('/login')
    await r.page.evaluate(([s, p]) => localStorage.setItem('hc.resident.session', JSON.stringify({ token: s.token, expiresAt: s.expiresAt, kind: 'RESIDENT', name: p })), [session, phone])
    await r.page.goto('/')
    await r.page.getByTestId('code-card').waitFor()
    assert((await r.page.getByTestId('code-card').getAttribute('data-colour')) === 'YELLOW', 'the mistaken 38.6 ℃ made the code yellow')
    await r.shot('code-yellow')

    await staffLogin(t, 'operator')
    await page.goto('/console/tickets')
    await page.getByTestId('queue-table').waitFor()
    await page.getByTestId('live').getByText('实时').waitFor()
    await page.evaluate(() => (window.__sameDocument = true))
    const fact = (await gql(session.token, `{ myFacts { kind id summary } }`)).myFacts.find((f) => f.kind === 'HEALTH' && f.summary.includes('38.6'))
    assert(fact, 'the declared reading is a HEALTH fact')
    await page.waitForTimeout(500) // the subscription is up
    const filed = await gql(session.token, `mutation($e: String, $f: ID) { fileAppeal(input: { reason: "申报时误将36.8填成38.6，当时体温正常，附体温记录照片。",
      evidenceBase64: $e, evidenceType: "image/png", factKind: HEALTH, factId: $f }) { id } }`, { e: pixelPNG.toString('base64'), f: fact.id })
    const id = filed.fileAppeal.id
    const row = page.locator(`.ticket-${id}`)
    await row.waitFor({ timeout: 15_000 })
    assert(await page.evaluate(() => window.__sameDocument === true), 'the appeal arrived without a reload')
    await page.getByTestId('arrivals').waitFor()
    assert(/^\(\d+\) /.test(await page.title()), `the tab shows a badge: ${await page.title()}`)
    const firstRow = await page.locator('[data-testid=queue-table] .el-table__body tr').first().getAttribute('class')
    assert(firstRow.includes('ticket-') && (await page.locator('[data-testid=queue-table] .el-table__body tr').first().innerText()).includes('赋码申诉'), 'an appeal leads the queue')
    await t.shot('appeal-arrived-live', WIDE)
    await page.getByTestId(`open-${id}`).click()
    await act(t, 'DISPATCH')
    await ticketState(page, '已派单')

    const h = await open('desktop', 'handler')
    await staffLogin(h, 'yanta_handler')
    await h.page.goto('/console/tickets')
    await h.page.getByTestId(`open-${id}`).click()
    await h.page.waitForURL(new RegExp(`/console/appeals/${id}$`))
    await h.page.getByTestId('desk-colour').waitFor()
    await h.shot('desk-before-signing')
    await act(h, 'SIGN')
    await ticketState(h.page, '已签收')
    const disputed = h.page.getByTestId(`desk-fact-HEALTH-${fact.id}`)
    assert((await disputed.innerText()).includes('居民有异议'), 'the disputed reading is marked')
    assert((await h.page.getByTestId('explanation').innerText()).includes('误将36.8填成38.6'), 'the explanation is shown')
    assert((await h.page.getByTestId('evidence-image').getAttribute('src')).startsWith('data:image/png;base64,'), 'the photo is shown')
    await h.page.getByTestId('correction-text').fill('经核实为申报时误填，已撤销该体温记录，健康码已恢复。')
    await h.shot('desk-correction', WIDE)
    await h.page.getByTestId('correction-submit').click()
    const outcome = h.page.getByTestId('correction-outcome')
    await outcome.waitFor()
    assert((await outcome.getAttribute('data-outcome')) === 'applied', 'the correction took effect')
    await h.page.waitForFunction(() => document.querySelector('[data-testid=desk-colour]')?.getAttribute('data-colour') === 'GREEN')
    await h.shot('desk-corrected', WIDE)

    // The resident's code page, left open, turns green without a reload.
    const url = r.page.url()
    await r.page.waitForFunction(() => document.querySelector('[data-testid=code-card]')?.getAttribute('data-colour') === 'GREEN', null, { timeout: 30_000 })
    assert(r.page.url() === url, 'no navigation on the resident page')
    await r.shot('code-green')
  },

  /** A supervisor opens last week's ranking, drills into 西安市, downloads the workbook and checks a row, opens the deviations. */
  async supervisorRankings(t, { gql }) {
    const { page } = t
    // A deviation: Xi'an's sub-system pushes a green code for a person back from abroad. The trip makes the
    // person red, so the record waits for a health officer other than the key's creator (issue 12); once
    // prov_health approves it, it is stored and compared like any record and the deviation opens.
    const xian = await token(gql, 'xian_admin')
    const key = (await gql(xian, `mutation { createApiKey(city: "6101", name: "西安一码通（测试）") { key } }`)).createApiKey.key
    const community = (await gql(xian, `{ regions(parent: "610102001", first: 1) { nodes { code } } }`)).regions.nodes[0].code
    const day = (n) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10)
    const pushed = await gql(key, `mutation($r: [SubsystemRecordInput!]!) { pushSubsystemRecords(records: $r) { pending records { status message requestId } } }`, {
      r: [{ recordId: 'XA-E2E-0001', name: '孙偏差', sex: '1', nationality: 'CHN', docType: 'ID_CARD', docNumber: idNumber('61010219900101301'),
        region: community, address: '新城区1号', phone: '13800000301', temperature: 36.5, symptoms: [],
        travel: [{ place: 'ABROAD:JP', from: day(-5), to: day(-3) }], colour: 'GREEN', issuedAt: new Date().toISOString(), issuer: '6101' }],
    })
    const [record] = pushed.pushSubsystemRecords.records
    assert(record.status === 'PENDING_APPROVAL' && record.requestId, `the red-making record waits: ${JSON.stringify(pushed)}`)
    const officer = await token(gql, 'prov_health')
    const approved = await gql(officer, `mutation($id: ID!) { approveColourRequest(id: $id) { status } }`, { id: record.requestId })
    assert(approved.approveColourRequest.status === 'APPROVED', `the second officer approves: ${JSON.stringify(approved)}`)

    await staffLogin(t, 'supervisor')
    await page.getByTestId('menu-rankings').click()
    const table = page.getByTestId('ranking-table')
    await table.locator('.el-table__body tr').first().waitFor()
    assert((await page.getByTestId('ranking-state').innerText()).length > 0, 'the ranking says how much data it rests on')
    const cityRows = await table.locator('.el-table__body-wrapper tr').count()
    assert(cityRows >= 10, `the ten cities are ranked (${cityRows} rows)`)
    await t.shot('rankings-cities', WIDE)

    await page.getByTestId('drill-6101').first().click()
    await page.waitForURL(/parent=6101/)
    await page.getByText('西安市 县（区）').waitFor()
    // The counties' rows, not the cities' still on screen while they load.
    await table.locator('.el-table__body-wrapper tr', { hasText: '雁塔区' }).first().waitFor()
    const firstRow = table.locator('.el-table__body-wrapper tr').first()
    const cell = async (n) => (await firstRow.locator(`td:nth-child(${n})`).innerText()).trim()
    const rank = (await firstRow.locator('td:nth-child(1) strong').innerText()).trim()
    const region = await cell(2)
    const score = await cell(3)
    await t.shot('rankings-xian-counties', WIDE)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-xlsx').click()])
    const rows = readSheet(readFileSync(await download.path()))
    assert(rows[0][0] === '排名' && rows[0][1] === '地区', `the workbook's header: ${rows[0]}`)
    const row = rows.find((r) => r[1] === region)
    assert(row, `the workbook has a row for ${region}`)
    assert(row[0] === rank && Number(row[2]) === Number(score), `the workbook's row for ${region} (${row.slice(0, 3)}) matches the screen (${rank}, ${score})`)

    await page.getByTestId('menu-charts').click()
    await page.getByTestId('trend-chart').locator('canvas').waitFor()
    await t.shot('charts', WIDE)
    await page.getByTestId('menu-reports').click()
    await page.getByTestId('reports-table').locator('.el-table__body tr').first().waitFor()
    await t.shot('reports')
    await page.getByTestId('menu-exchange').click()
    const deviations = page.getByTestId('deviations-table')
    await deviations.getByText('XA-E2E-0001').waitFor()
    const text = await deviations.locator('tr', { hasText: 'XA-E2E-0001' }).innerText()
    assert(text.includes('R1') && text.includes('未纠正'), `the deviation names the unified clause: ${text}`)
    await page.getByTestId('pushes-table').locator('.el-table__body tr').first().waitFor()
    await t.shot('data-exchange', WIDE)
  },
}
