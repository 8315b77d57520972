// The console's administration of people (issue 15 administration 4, issue
// 12 §2–3), at 1280 × 800: an administrator creates a staff account and
// grants it a role; the new member verifies their phone by SMS at first
// login; an approving role waits for another administrator above; an institution's administrator adds a venue and an inspector; a
// community health officer binds a guardian to a resident without a phone
// and ends the binding; the province's administrator adds another province's
// issuer to the trust list and retires it.
import { assert, idNumber } from './util.mjs'
import { pick, residentLogin, staffLogin, token } from './console.mjs'
import { foreignIssuer } from './scan.mjs'

/** Logs in through the console's login page with a password of its own. */
async function loginAs(t, username, password) {
  const { page } = t
  await page.goto('/console/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码').fill(password)
  await page.getByRole('button', { name: '登录' }).click()
  await page.waitForURL((u) => !u.pathname.includes('/login'))
  await page.getByTestId('account').waitFor()
}

async function logout(t) {
  await t.page.getByTestId('logout').click()
  await t.page.waitForURL((u) => u.pathname.includes('/login'))
}

/** The newest six-digit code the dev SMS outbox holds for phone (other than not). */
async function smsCode(gql, phone, not = '') {
  for (let i = 0; i < 100; i++) {
    const msgs = (await gql(null, `query($p: String!) { devMessages(phone: $p) { body } }`, { p: phone })).devMessages
    const code = /(\d{6})/.exec(msgs.at(-1)?.body ?? '')?.[1]
    if (code && code !== not) return code
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no SMS code for ${phone}`)
}

export const adminFlows = {
  async staffAccountGrantAndPhone(t, { gql }) {
    const { page } = t
    const username = `e2e.handler${Date.now() % 100000}`
    const password = 'e2eHandler2026'
    await staffLogin(t, 'yanta_admin')
    await page.getByTestId('menu-staff').click()
    await page.getByTestId('staff-table').waitFor()
    await t.shot('staff-list')

    // A bad username is refused at its field, in Chinese; then the account is created.
    await page.getByTestId('staff-create').click()
    const dialog = page.locator('.el-dialog:visible')
    await page.getByTestId('staff-username').fill('赵')
    await page.getByTestId('staff-name').fill('赵承办')
    await page.getByTestId('staff-password').fill(password)
    await page.getByTestId('staff-submit').click()
    await dialog.locator('.el-form-item__error').getByText('用户名须为 3–32 位').waitFor()
    await t.shot('staff-create-invalid')
    await page.getByTestId('staff-username').fill(username)
    await page.getByTestId('staff-submit').click()
    await page.getByText(`已创建账号 ${username}`).waitFor()
    const row = page.getByTestId('staff-table').locator('tr', { hasText: username })
    await row.waitFor()
    assert((await row.innerText()).includes('雁塔区'), 'the account is homed in the administrator\'s county, by name')
    assert((await page.getByTestId(`phone-${username}`).innerText()) === '未验证', 'the new account\'s phone is not verified')

    // A handler's grant at a street of the county takes effect at once (not an approving role).
    await page.getByTestId(`grant-${username}`).click()
    await pick(page, page.getByTestId('grant-role'), '承办人员')
    const region = page.locator('.el-dialog:visible').getByRole('group', { name: '授权地区' })
    const streets = (await gql(await token(gql, 'yanta_admin'), `{ regions(parent: "610113", first: 1) { nodes { code name } } }`)).regions.nodes
    await pick(page, region.locator('.el-select').nth(0), streets[0].name)
    await t.shot('staff-grant')
    await page.getByTestId('grant-submit').click()
    await page.getByText('已授予').waitFor()
    const grant = page.getByTestId(`grant-${username}-HANDLER`)
    await grant.waitFor()
    const label = await grant.innerText()
    assert(label.includes(`承办人员 · ${streets[0].name}`) && !label.includes('待审核'), `the grant is in force, by region name: ${label}`)
    assert(!label.includes(streets[0].code), 'no bare region code')
    await t.shot('staff-granted')
    await logout(t)

    // The new member logs in: a banner asks for the phone; the SMS code verifies it.
    await loginAs(t, username, password)
    await page.getByTestId('phone-banner').waitFor()
    await page.getByTestId('menu-queue').waitFor()
    await t.shot('phone-banner')
    await page.getByTestId('phone-verify').click()
    const phone = `1990100${String(Date.now() % 10000).padStart(4, '0')}`
    await page.getByTestId('verify-phone').fill(phone)
    await page.getByTestId('verify-code').fill('000000')
    await page.getByTestId('verify-send').click()
    await page.getByText('验证码已发送').waitFor()
    const code = await smsCode(gql, phone)
    // A wrong code is refused at its field and keeps the session.
    await page.getByTestId('verify-code').fill(code === '000000' ? '111111' : '000000')
    await page.getByTestId('verify-submit').click()
    await page.locator('.el-dialog:visible .el-form-item__error').getByText('验证码错误或已过期').waitFor()
    assert(!page.url().includes('/login'), 'a wrong code keeps the session')
    await page.getByTestId('verify-code').fill(code)
    await t.shot('phone-verify')
    await page.getByTestId('verify-submit').click()
    await page.getByText('手机号码已验证').waitFor()
    await page.getByTestId('phone-banner').waitFor({ state: 'detached' })
    await logout(t)

    await staffLogin(t, 'yanta_admin')
    await page.getByTestId('menu-staff').click()
    await page.getByTestId(`phone-${username}`).getByText('已验证').waitFor()

    // An approving role (HEALTH_OFFICER) waits for another administrator above the street: the granter's own
    // approval is refused with the API's words; Xi'an's administrator approves it.
    await page.getByTestId(`grant-${username}`).click()
    await pick(page, page.getByTestId('grant-role'), '卫生健康人员')
    await page.getByTestId('grant-approval-note').waitFor()
    await pick(page, page.locator('.el-dialog:visible').getByRole('group', { name: '授权地区' }).locator('.el-select').nth(0), streets[0].name)
    await page.getByTestId('grant-submit').click()
    await page.getByText('须上级地区的另一名管理员审核后生效').waitFor()
    const pending = page.getByTestId(`grant-${username}-HEALTH_OFFICER`)
    await pending.getByText('待审核').waitFor()
    await pending.getByRole('button', { name: '审核同意' }).click()
    await page.getByText('授权须由上级管理员中的另一人审核').waitFor()
    await t.shot('staff-approval-refused')
    await logout(t)
    await staffLogin(t, 'xian_admin')
    await page.getByTestId('menu-staff').click()
    await page.getByTestId('staff-table').locator('tr', { hasText: username }).waitFor()
    await page.getByTestId(`grant-${username}-HEALTH_OFFICER`).getByRole('button', { name: '审核同意' }).click()
    await page.getByText('授权已生效').waitFor()
    await page.getByTestId(`grant-${username}-HEALTH_OFFICER`).getByText('待审核').waitFor({ state: 'detached' })
  },

  async institutionVenueAndInspector(t) {
    const { page } = t
    const suffix = Date.now() % 100000
    await staffLogin(t, 'yanta_checkpoint_admin')
    await page.getByTestId('menu-institutions').click()
    await page.getByTestId('institutions-table').locator('.el-table__expand-icon').first().click()
    await page.getByTestId('venues-table').waitFor()

    // A venue: the missing name is refused at its field, then it is added inside the institution's county.
    await page.getByTestId('venue-add').click()
    const form = page.locator('.el-dialog:visible')
    await page.getByTestId('venue-submit').click()
    await form.locator('.el-form-item__error').getByText('场所名称').waitFor()
    const venue = `e2e 雁塔区演示办公楼 ${suffix}`
    await page.getByTestId('venue-name').fill(venue)
    await pick(page, page.getByTestId('venue-type'), '机关企事业单位入口')
    await t.shot('venue-form')
    await page.getByTestId('venue-submit').click()
    await page.getByText(`已新增查验场所 ${venue}`).waitFor()
    const vrow = page.getByTestId('venues-table').locator('tr', { hasText: venue })
    await vrow.waitFor()
    const vtext = await vrow.innerText()
    assert(vtext.includes('雁塔区') && vtext.includes('机关企事业单位入口'), `the venue shows its region by name and its type: ${vtext}`)

    // An inspector with an initial password, then removed.
    const username = `e2e.inspector${suffix}`
    await page.getByTestId('inspector-add').click()
    await page.getByTestId('inspector-username').fill(username)
    await page.getByTestId('inspector-name').fill('e2e 防疫员')
    await page.getByTestId('inspector-password').fill('short')
    await page.getByTestId('inspector-submit').click()
    await page.locator('.el-dialog:visible .el-form-item__error').getByText('密码至少 10 位').waitFor()
    await page.getByTestId('inspector-password').fill('e2eInspector2026')
    await page.getByTestId('inspector-submit').click()
    await page.getByTestId('inspectors-table').locator('tr', { hasText: username }).waitFor()
    await t.shot('institution-detail')
    await page.getByTestId(`inspector-remove-${username}`).click()
    await page.locator('.el-message-box').getByRole('button', { name: '移除' }).click()
    await page.getByText('已移除防疫员').waitFor()
    await page.getByTestId('inspectors-table').locator('tr', { hasText: username }).waitFor({ state: 'detached' })
  },

  async guardianshipBindAndEnd(t, { gql }) {
    const { page } = t
    const health = await token(gql, 'yanta_health')
    const streets = (await gql(health, `{ regions(parent: "610113", first: 50) { nodes { code name } } }`)).regions.nodes
    const street = streets[4 % streets.length]
    const community = (await gql(health, `query($s: String) { regions(parent: $s, first: 1) { nodes { code name } } }`, { s: street.code })).regions.nodes[0]
    // A resident without a phone (declared by the community) and a guardian who has logged in once.
    await gql(health, `mutation($in: DeclarationInput!) { submitDeclaration(input: $in) { code { colour } } }`, {
      in: { form: 'RESIDENT', name: '卫老汉', docType: 'ID_CARD', docNumber: idNumber('61011319500303071'), phone: '', residence: community.code, address: '吉祥路3号', temperature: 36.5 },
    })
    const guardianPhone = '13800000731'
    await residentLogin(gql, guardianPhone)

    await staffLogin(t, 'yanta_health')
    await page.goto(`/console/community/persons?region=${community.code}`)
    const row = page.getByTestId('persons-table').locator('tr', { hasText: '卫*汉' }).first()
    await row.waitFor()
    assert((await row.innerText()).includes(community.name), 'the residence shows by name')
    await row.getByRole('button', { name: '监护关系' }).click()
    await page.getByTestId('guardian-events').waitFor()
    await page.getByTestId('guardian-current').getByText('无').waitFor()
    await page.getByTestId('guardian-phone').fill(guardianPhone)
    await page.getByTestId('guardian-reason').fill('入户核实：本人年老不能使用手机，由其女儿监护')
    await page.getByTestId('guardian-bind').click()
    await page.getByText('已绑定监护人').waitFor()
    await page.getByTestId('guardian-current').getByText('138****0731（社区确认）').waitFor()
    await t.shot('guardian-bound')

    await page.getByTestId('guardian-unbind').click()
    await page.locator('.el-message-box input').fill('监护人变更，另行绑定')
    await page.locator('.el-message-box').getByRole('button', { name: '解除绑定' }).click()
    await page.getByText('已解除绑定').waitFor()
    await page.getByTestId('guardian-current').getByText('无').waitFor()
    const events = await page.getByTestId('guardian-events').locator('tbody tr').allInnerTexts()
    assert(events.length === 2, `a binding and its end: ${events.join(' / ')}`)
    assert(events[0].includes('解除') && events[0].includes('卫生健康人员') && events[0].includes('监护人变更'), `the end, by whom and why: ${events[0]}`)
    assert(events[1].includes('绑定') && events[1].includes('社区确认'), `the binding: ${events[1]}`)
    await t.shot('guardian-ended')
  },

  async trustListAddAndRetire(t) {
    const { page } = t
    // Another issuer than the scanner flow's (湖北省, 42): 湖南省, 43, with a key of its own.
    const hubei = foreignIssuer().keysJson
    const hunan = hubei.replaceAll('"42"', '"43"').replace('湖北省', '湖南省')
    await staffLogin(t, 'admin')
    await page.getByTestId('menu-trust').click()
    await page.getByTestId('issuers-table').waitFor()
    await page.getByTestId('issuer-add').click()
    await page.getByTestId('issuer-id').fill('43')
    // A document without the issuer's keys is refused at the key set field.
    await page.getByTestId('issuer-keys').fill(hubei)
    await page.getByTestId('issuer-submit').click()
    await page.locator('.el-dialog:visible .el-form-item__error').getByText('未包含签发方 43 的公钥').waitFor()
    await t.shot('trust-invalid')
    await page.getByTestId('issuer-keys').fill(hunan)
    await page.getByTestId('issuer-submit').click()
    await page.getByText('已将 湖南省 列入互信名单').waitFor()
    const row = page.getByTestId('issuers-table').locator('tr', { hasText: '湖南省' })
    assert((await row.innerText()).includes('43'), 'the issuer id shows')
    await t.shot('trust-list')
    await page.getByTestId('issuer-retire-43').click()
    await page.locator('.el-message-box').getByRole('button', { name: '停用' }).click()
    await page.getByText('已停用该签发方').waitFor()
    // A retired issuer leaves the list in force (its tokens are refused once the key set is rebuilt).
    await row.waitFor({ state: 'detached' })
  },
}
