// The community desk and administration of issue 15 in the console (1280 ×
// 800): a health officer declares for a person without a phone, prints the
// paper code (A6 print view) and withdraws it; a community reviews a pass
// card and prints it; a health officer previews an area risk designation,
// sets it, and the preview's count matches the colour changes it caused.
import { assert, idNumber } from './util.mjs'
import { pick, residentLogin, staffLogin, token } from './console.mjs'

/** The first street of a county and its first community, with names. */
async function yantaCommunity(gql, admin, index = 0) {
  const streets = (await gql(admin, `{ regions(parent: "610113", first: 50) { nodes { code name } } }`)).regions.nodes
  const street = streets[index % streets.length]
  const community = (await gql(admin, `query($s: String) { regions(parent: $s, first: 1) { nodes { code name } } }`, { s: street.code })).regions.nodes[0]
  return { street, community }
}

export const deskFlows = {
  async paperCodeIssueAndPrint(t, { gql }) {
    const { page } = t
    const admin = await token(gql, 'admin')
    const { community } = await yantaCommunity(gql, admin, 1)
    await staffLogin(t, 'yanta_health')
    await page.getByTestId('menu-communityPersons').click()
    await page.getByTestId('persons-table').waitFor()
    // The community chosen (from a shared link): the declaration's residence defaults to it.
    await page.goto(`/console/community/persons?region=${community.code}`)
    await page.getByTestId('persons-table').waitFor()
    await t.shot('persons')
    await page.getByTestId('declare').click()
    await page.getByTestId('declare-name').fill('郑老太')
    await page.getByTestId('declare-doc').fill(idNumber('61011319380505401'))
    await page.getByTestId('declare-address').fill('小寨东路8号')
    await t.shot('declare-form')
    await page.getByTestId('declare-submit').click()
    await page.getByTestId('declare-print').click()
    const frame = page.frameLocator('[data-testid=print-frame]')
    await frame.getByText('陕西健康码（纸质）').waitFor()
    const text = await frame.locator('body').innerText()
    assert(text.includes('郑*太') && !text.includes('郑老太'), `the print view masks the name: ${text}`)
    assert(text.includes('有效期至'), 'the print view shows the validity')
    assert((await frame.locator('svg').count()) > 0, 'the print view has the QR')
    await t.shot('paper-code-print')
    await page.getByTestId('print').waitFor()
    await page.locator('.el-dialog:visible').getByRole('button', { name: '关闭', exact: true }).click()

    // The paper code is withdrawn with a reason.
    const row = page.getByTestId('persons-table').locator('tr', { hasText: '郑*太' }).first()
    await row.waitFor()
    await row.getByRole('button', { name: '作废纸质码' }).click()
    await page.locator('.el-message-box input').fill('误打印')
    await page.locator('.el-message-box').getByRole('button', { name: '作废纸质码' }).click()
    await page.getByText('已作废 1 张纸质码').waitFor()
    await t.shot('paper-code-revoked')
  },

  async passCardReview(t, { gql }) {
    const { page } = t
    const admin = await token(gql, 'admin')
    const { community } = await yantaCommunity(gql, admin, 2)
    const phone = '13800000411'
    const resident = await residentLogin(gql, phone)
    await gql(resident.token, `mutation($in: DeclarationInput!) { applyPassCard(input: $in) { id status } }`, {
      in: { form: 'RESIDENT', name: '冯通行', docType: 'ID_CARD', docNumber: idNumber('61011319850808411'), phone, residence: community.code, address: '雁塔路9号', temperature: 36.5 },
    })
    await staffLogin(t, 'yanta_health')
    await page.getByTestId('menu-passCards').click()
    const row = page.getByTestId('passcards-table').locator('tr', { hasText: '冯*行' }).first()
    await row.waitFor()
    await t.shot('passcard-queue')
    await row.getByRole('button', { name: '通过' }).click()
    const frame = page.frameLocator('[data-testid=print-frame]')
    await frame.getByText('健康通行卡').first().waitFor()
    assert((await frame.locator('body').innerText()).includes('冯*行'), 'the card shows the masked name')
    await t.shot('passcard-print')
    await page.locator('.el-dialog:visible').getByRole('button', { name: '关闭', exact: true }).click()
    await page.getByTestId('passcard-status').getByText('已通过').click()
    await page.getByTestId('passcards-table').locator('tr', { hasText: '冯*行' }).first().waitFor()
    const apps = (await gql(await token(gql, 'yanta_health'), `{ passCardApplications(status: "APPROVED") { maskedName cardId } }`)).passCardApplications
    assert(apps.some((a) => a.maskedName === '冯*行' && a.cardId), 'the application is approved with a card')
  },

  async areaRiskPreviewAndSet(t, { gql, open }) {
    const { page } = t
    const admin = await token(gql, 'admin')
    const health = await token(gql, 'yanta_health')
    const { street, community } = await yantaCommunity(gql, admin, 3)
    // Two residents of the community (green) whom the designation reaches.
    for (const [i, name] of ['陈甲', '陈乙'].entries()) {
      await gql(health, `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { code { colour } } }`, {
        in: { form: 'RESIDENT', name, docType: 'ID_CARD', docNumber: idNumber(`6101131990010150${i}`), phone: '', residence: community.code, address: '电子正街1号', temperature: 36.5 },
      })
    }
    await staffLogin(t, 'yanta_health')
    await page.getByTestId('menu-areaRisk').click()
    const region = page.getByRole('group', { name: '地区' })
    await pick(page, region.locator('.el-select').nth(0), street.name)
    await pick(page, region.locator('.el-select').nth(1), community.name)
    await page.getByTestId('risk-reason').fill('e2e：聚集性疫情')
    assert(await page.getByTestId('risk-save').isDisabled(), 'saving waits for the preview')
    await page.getByTestId('risk-preview').click()
    await page.getByTestId('risk-impact').waitFor()
    const preview = (await gql(health, `query($r: String!) { previewAreaRisk(region: $r, level: HIGH) { evaluated changed } }`, { r: community.code })).previewAreaRisk
    const shown = Number((await page.getByTestId('impact-changed').innerText()).replace(/\D/g, ''))
    assert(shown === preview.changed && preview.changed >= 2, `the page shows the preview (${shown} vs ${preview.changed})`)
    await t.shot('area-risk-preview')
    await page.getByTestId('risk-save').click()
    // HIGH waits for a second health officer (issue 12): yanta_health2 approves it.
    await page.getByText('须另一名卫生健康人员审核同意后生效').waitFor()
    const second = await token(gql, 'yanta_health2')
    const request = (await gql(second, `{ colourRequests { id kind region } }`)).colourRequests.find((r) => r.kind === 'AREA_RISK' && r.region === community.code)
    assert(request, 'the designation waits as a colour change request')
    // The officer's own request is in its inbox, but not for it to approve.
    await page.getByTestId('menu-inbox').click()
    await page.getByTestId(`own-request-${request.id}`).waitFor()
    assert(await page.getByTestId(`approve-request-${request.id}`).isDisabled(), 'one cannot approve one\'s own request')
    // HIGH waits for a second health officer (issue 12): yanta_health2 approves it in the inbox.
    const other = await open('desktop', 'second-officer')
    await staffLogin(other, 'yanta_health2')
    await other.page.getByTestId('inbox-badge').waitFor()
    await other.page.getByTestId('menu-inbox').click()
    await other.page.getByTestId(`approve-request-${request.id}`).waitFor()
    await other.shot('inbox', { sizes: [[1440, 900]] })
    await other.page.getByTestId(`approve-request-${request.id}`).click()
    await other.page.getByText('已同意，变更已生效').waitFor()
    const left = (await gql(second, `{ colourRequests { id } }`)).colourRequests
    assert(!left.some((r) => r.id === request.id), 'the request is decided')
    await page.getByTestId('menu-areaRisk').click()
    const risk = (await gql(health, `query($r: String) { areaRisks(region: $r) { id regionCode } }`, { r: community.code })).areaRisks.find((r) => r.regionCode === community.code)
    // In force now: the officer's page lists it once reloaded.
    await page.reload()
    await page.getByTestId('area-risk-page').waitFor()
    // The workers re-evaluate the persons it reaches; the outcome counts what changed.
    let changed = -1
    for (let i = 0; i < 120 && changed !== preview.changed; i++) {
      const outcome = (await gql(health, `query($id: ID!) { areaRiskOutcome(id: $id) { from to count } }`, { id: risk.id })).areaRiskOutcome
      changed = outcome.filter((o) => o.from !== o.to).reduce((n, o) => n + o.count, 0)
      if (changed !== preview.changed) await new Promise((r) => setTimeout(r, 500))
    }
    assert(changed === preview.changed, `the designation changed ${changed} colours, the preview said ${preview.changed}`)
    await page.getByTestId(`outcome-${risk.id}`).click()
    await page.getByTestId('outcome-changed').getByText(`：${changed}`).waitFor()
    await t.shot('area-risk-outcome')
    console.log(`    area risk: preview ${preview.changed} of ${preview.evaluated} change colour, outcome ${changed}`)
  },

  async auditLogAndVerify(t) {
    const { page } = t
    await staffLogin(t, 'auditor')
    await page.getByTestId('menu-audit').click()
    await page.getByTestId('audit-table').locator('tbody tr').first().waitFor()
    await page.getByTestId('audit-action').fill('seed.')
    await page.getByTestId('audit-search').click()
    await page.getByTestId('audit-table').getByText('seed.demo_account').first().waitFor()
    await page.getByTestId('audit-verify').click()
    await page.getByTestId('audit-verification').getByText('哈希链完整').waitFor()
    await t.shot('audit')
  },

  async adminInstitutionsAndLevels(t) {
    const { page } = t
    await staffLogin(t, 'yanta_admin')
    await page.getByTestId('menu-institutions').click()
    const row = page.getByTestId('institutions-table').locator('tr', { hasText: '雁塔区联防联控演示查验点' }).first()
    await row.locator('.el-table__expand-icon').click()
    await page.getByText('雁塔区演示综合超市').waitFor()
    await t.shot('institutions')
    await page.getByTestId('menu-responseLevel').click()
    await page.getByTestId('current-level').waitFor()
    await page.getByTestId('required-types').locator('tbody tr').first().waitFor()
    await t.shot('response-level')
  },

  // Last: the approval re-evaluates the whole demo province.
  async ruleSetPublishAndApprove(t, { gql, open }) {
    const { page } = t
    const rules = await token(gql, 'rule_admin')
    await staffLogin(t, 'rule_admin')
    await page.getByTestId('menu-ruleSets').click()
    await page.getByTestId('rulesets-table').locator('tbody tr').first().waitFor()
    await page.getByTestId('rulesets-table').getByRole('button', { name: '查看' }).first().click()
    await page.getByTestId('ruleset-clauses').getByText('附件1 一(一)').first().waitFor()
    await t.shot('rulesets', { sizes: [[1440, 900]] })
    await page.getByTestId('ruleset-new').click()
    const area = page.getByTestId('ruleset-body')
    const body = JSON.parse(await area.inputValue())
    assert(body.version === '' && body.clauses.length >= 10, 'the editor starts from the set in force')
    // A version the server refuses: its problem is placed at the clause's line.
    body.version = 'e2e-2026-12'
    const y2 = body.clauses.find((c) => c.id === 'Y2')
    y2.params.threshold = 45
    await area.fill(JSON.stringify(body, null, 2))
    await page.getByTestId('ruleset-preview').click()
    const problem = page.getByTestId('ruleset-problems').locator('li', { hasText: 'Y2' })
    await problem.waitFor()
    const line = Number(await problem.getAttribute('data-line'))
    const lines = (await area.inputValue()).split('\n')
    assert(lines[line - 1]?.includes('"Y2"'), `the problem is placed at Y2's line (${line})`)
    await t.shot('ruleset-invalid', { sizes: [[1440, 900]] })
    // The fever threshold lowered to 37.0 and the symptom list shortened.
    y2.params.threshold = 37
    y2.params.symptoms = ['fever', 'cough']
    await area.fill(JSON.stringify(body, null, 2))
    await page.getByTestId('diff-Y2').getByText('体温阈值').waitFor()
    assert(await page.getByTestId('ruleset-publish').isDisabled(), 'submitting waits for the preview')
    await page.getByTestId('ruleset-preview').click()
    await page.getByTestId('ruleset-impact').waitFor()
    const preview = (await gql(rules, `query($b: String!) { previewRuleSet(body: $b) { evaluated transitions { from to count } } }`, { b: JSON.stringify(body) })).previewRuleSet
    const changed = preview.transitions.filter((r) => r.from !== r.to).reduce((n, r) => n + r.count, 0)
    const shown = Number((await page.getByTestId('ruleset-changed').innerText()).replace(/\D/g, ''))
    assert(shown === changed, `the page shows the preview (${shown} vs ${changed})`)
    await t.shot('ruleset-preview', { sizes: [[1440, 900]] })
    await page.getByTestId('ruleset-publish').click()
    await page.getByText('须另一名规则管理员审核后生效').first().waitFor()
    await page.getByTestId('ruleset-status-e2e-2026-12').getByText('待审核').waitFor()
    assert(await page.getByTestId('ruleset-approve-e2e-2026-12').isDisabled(), 'the submitter cannot approve its own rule set')
    const rejected = await fetch(new URL('/graphql', t.page.url()), {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${rules}` },
      body: JSON.stringify({ query: 'mutation { approveRuleSet(version: "e2e-2026-12") { status } }' }),
    }).then((r) => r.json())
    assert(rejected.errors?.[0]?.message === '规则须由另一名规则管理员审核发布', `the API refuses self-approval: ${JSON.stringify(rejected.errors)}`)

    // The second rule admin finds it in the inbox and approves it beside its diff.
    const other = await open('desktop', 'second-rule-admin')
    await staffLogin(other, 'rule_admin2')
    await other.page.getByTestId('inbox-badge').waitFor()
    await other.page.getByTestId('menu-inbox').click()
    await other.page.getByTestId('inbox-rule-e2e-2026-12').click()
    const detail = other.page.getByTestId('ruleset-detail')
    await detail.getByTestId('diff-Y2').waitFor()
    await other.shot('ruleset-diff', { sizes: [[1440, 900]] })
    await detail.getByTestId('ruleset-approve').click()
    await other.page.locator('.el-message-box').getByRole('button', { name: '审核发布' }).click()
    await other.page.getByTestId('ruleset-status-e2e-2026-12').getByText('现行').waitFor()
    const sets = (await gql(rules, `{ ruleSets { version status submitter { name } approver { name } } }`)).ruleSets
    const done = sets.find((r) => r.version === 'e2e-2026-12')
    assert(done.status === 'PUBLISHED' && done.submitter.name === '省规则管理员' && done.approver.name === '省规则管理员（复核）', `both people: ${JSON.stringify(done)}`)
    console.log(`    rule set: preview ${changed} of ${preview.evaluated} change colour`)
  },
}
